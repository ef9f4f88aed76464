"""The kinds the users split fails most, at scale: the written why, how, summary and near-miss questions of
`train/questions/` asked over SQuAD 2.0's whole index, with each answering preset.

    python bench/written.py ../shared/benchmarks/squad2-cs224n-dev [--rules seed-fitted,measured,reader,cross,cross-cosine] [--json]

The index is bench/squad2.py's (every paragraph of the dev file and of the distractor file, one document
each). For a why, how or summary question the answer is scored by the sentences a full answer needs
(written with the question): how many of them the answer quotes (coverage), whether it quotes all
(full) or at least one (any), and whether it was refused; a near miss should be refused. The questions are
about the `encoder` articles, on which the reader and the cross-encoder were trained (on SQuAD's own
questions, not these), so the figures compare presets on these kinds rather than measure held-out quality;
the hand rules were written from neither.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import ROOT, mean, normalize, progress, settings_over, table
from squad2 import corpus

from rag import text as T
from rag.answer import pipeline

QUESTIONS = ROOT / "train" / "questions" / "squad2-encoder.jsonl"
KINDS = ("why", "how", "summary", "near_miss")


def scored(pipe: pipeline.Pipeline, row: dict, context: str, doc: str) -> dict[str, object]:  # type: ignore[type-arg]
    answer = pipe.ask(row["question"])
    hits = [p["source"] for p in answer.passages] if answer.passages else []
    sents = [context[s:e] for s, e in T.sentence_spans(context)]
    said = f" {normalize(answer.answer)} " if not answer.refused else ""
    quoted = [f" {normalize(sents[i])} " in said for i in row["sentences"]]
    return {"kind": row["kind"], "refused": answer.refused, "retrieved": doc in hits,
            "coverage": sum(quoted) / len(quoted) if quoted else 0.0, "full": bool(quoted) and all(quoted),
            "any": any(quoted)}


def summary(rows: list[dict[str, object]], rules: str) -> list[dict[str, object]]:
    out = []
    for kind in KINDS:
        got = [r for r in rows if r["kind"] == kind]
        if not got:
            continue
        row: dict[str, object] = {"rules": rules, "kind": kind, "questions": len(got), "refused": mean(got, "refused")}
        if kind != "near_miss":
            row |= {k: mean(got, k) for k in ("coverage", "full", "any")}
        out.append(row)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path, help="folder with dev-v2.0.json and distractors-test-v2.0-noanswers.json")
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--rules", default="seed-fitted,measured,reader,cross,cross-cosine", help="RAG_RULES presets, comma-separated")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = ap.parse_args()
    if (found := corpus(a.data_dir)) is None:
        return 2
    work, paras = found
    titles = [x["title"] for x in json.loads((a.data_dir / "dev-v2.0.json").read_text())["data"]]
    context = {pid: c for pid, _, c, _ in paras}
    rows = [json.loads(line) for line in a.questions.read_text(encoding="utf-8").splitlines()]
    out: list[dict[str, object]] = []
    for rules in a.rules.split(","):
        pipe = pipeline.build(settings_over(work, rules=rules), progress=sys.stderr.isatty())
        t0 = time.perf_counter()
        got = []
        for r in progress(rows, rules):
            doc = f"dev-{titles.index(r['article']):02d}-{r['paragraph']:03d}"
            got.append(scored(pipe, r, context[doc], doc))
        out += summary(got, rules)
        print(f"{rules}: {time.perf_counter() - t0:.0f} s, paragraph retrieved for {sum(bool(g['retrieved']) for g in got)} "
              f"of {len(got)}", file=sys.stderr)
    if a.json:
        print(json.dumps(out))
    else:
        print(table(out, ["rules", "kind", "questions", "refused", "coverage", "full", "any"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
