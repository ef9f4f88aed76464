"""RGB's English news questions as a refusal test: answer from the question's own passages, or refuse.

    python bench/rgb.py ../shared/benchmarks/rgb [--ablate] [--json]

RGB (en_fact.json) gives each of its 100 news questions the search results that answer it
(`positive`) and related ones that do not (`negative`). As in RGB's protocol, each question is
answered from five of its own passages, here the five that embed nearest to it: once from
positives and negatives together (answerable when a gold answer is among the five), and once
from negatives alone (RGB's negative rejection: the right output is a refusal). The questions
are terse and keyword-like ("Super Bowl 2021 location"), the passages search snippets.

Reported per rule set, as `bench/rules.py` reports SQuAD 2.0: containment, false refusals and
refusals at the rule set's own threshold and at the threshold that falsely refuses 5% of the
answerable questions. `--ablate` measures the `measured` rules with each rule removed in turn.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from common import progress, table
from rules import figures, judge, variants

from rag import text as T
from rag.answer.extractive import Extractive
from rag.answer.retrieve import Hit, counted_idf
from rag.answer.rules import PRESETS, Rules
from rag.index import embed
from rag.ingest.corpus import Paragraph

K = 5


def golds(answer: str | list) -> list[str]:  # type: ignore[type-arg]
    """RGB's answer: a string, or alternatives (nested one level for a multi-part answer)."""
    if isinstance(answer, str):
        return [answer]
    return [x for item in answer for x in (item if isinstance(item, list) else [item])]


def hits(question: str, passages: list[str], embed_fn: embed.Cached) -> list[Hit]:
    """The `K` passages that embed nearest to the question, as hits of one-paragraph documents."""
    passages = list(dict.fromkeys(passages))
    cosines = embed_fn(passages) @ embed_fn([question])[0]
    out = []
    for rank in np.argsort(-cosines)[:K]:
        text, name = passages[rank], f"rgb-{rank}"
        out.append(Hit(Paragraph(f"{name}#p1", name, "", 0, len(text), text), float(cosines[rank]), float(cosines[rank])))
    return out


def cases(rows: list[dict], embed_fn: embed.Cached) -> list[tuple[str, list[str], list[Hit], list[str]]]:  # type: ignore[type-arg]
    """(question, parts, hits, gold answers) twice per question: with its positives, then without.

    A case is answerable when a gold answer is among its five passages, as in `bench/rules.py`: a few
    negatives hold the answer's words too, and then answering from them is right.
    """
    out = []
    for r in progress(rows, "passages"):
        gold, parts = golds(r["answer"]), T.split_question(r["query"])
        out.append((r["query"], parts, hits(r["query"], r["positive"] + r["negative"], embed_fn), gold))
        out.append((r["query"], parts, hits(r["query"], r["negative"], embed_fn), gold))
    return out


def load(path: Path) -> tuple[embed.Cached, dict[str, float], list[tuple[str, list[str], list[Hit], list[str]]]]:
    """The embedder, the passages' idf, and the `cases` of the questions in `path` (en_fact.json)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    embed_fn = embed.Cached(embed.load(), 1_000_000)
    texts = sorted({p for r in rows for p in r["positive"] + r["negative"]})
    return embed_fn, counted_idf(texts), cases(rows, embed_fn)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rgb_dir", type=Path, help="folder with en_fact.json")
    ap.add_argument("--ablate", action="store_true", help="the measured rules with each rule removed in turn")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = ap.parse_args()
    path = a.rgb_dir / "en_fact.json"
    if not path.is_file():
        print(f"error: {path} not found", file=sys.stderr)
        return 2
    embed_fn, idf, asked = load(path)
    configs = variants(Rules.measured()) if a.ablate else {name: make() for name, make in PRESETS.items()}
    out, first = [], None
    for label, rules in progress(list(configs.items()), "rules"):
        res = judge(Extractive(embed_fn, idf, rules=rules), asked)
        first = first or res
        out.append({"rules": label, "threshold": rules.threshold, **figures(res, rules.threshold, first)})
    print(json.dumps(out) if a.json else table(out, list(out[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
