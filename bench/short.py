"""The short answer inside a sentence (`rag.answer.short`) against SQuAD 2.0's gold answers.

    python bench/short.py ../shared/benchmarks/squad2-cs224n-dev [--part test]

For every answerable question of the split's articles (train/splits/squad2.json; `test` by
default, which nothing was fitted on), the sentence holding its first gold answer is given, and
the short answer taken from it is scored with SQuAD's EM and F1 against the gold answers. Printed
per answer type: how many questions get a short answer, EM and F1 over those, and F1 of the whole
sentence over the same questions (what an answer scored before). The rules of `short` were
chosen on the encoder and head parts; the test part is the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common import ROOT, exact_match, f1, table

from rag import text as T
from rag.answer import answer_types, short


def questions(data_dir: Path, part: str) -> list[tuple[str, str, str, list[str]]]:
    """(question, its paragraph, the sentence holding its first gold answer, the gold answers)."""
    split = json.loads((ROOT / "train" / "splits" / "squad2.json").read_text())
    titles = set(split["parts"][part])
    out = []
    for article in json.loads((data_dir / "dev-v2.0.json").read_text())["data"]:
        if article["title"] not in titles:
            continue
        for p in article["paragraphs"]:
            spans = T.sentence_spans(p["context"])
            for qa in p["qas"]:
                if qa["is_impossible"]:
                    continue
                at = qa["answers"][0]["answer_start"]
                s, e = next(((s, e) for s, e in spans if s <= at < e), spans[-1])
                out.append((qa["question"], p["context"], p["context"][s:e], [a["text"] for a in qa["answers"]]))
    return out


def scored(rows: list[tuple[str, str, str, list[str]]]) -> list[dict[str, object]]:
    """Per answer type: questions, how many got a short answer, its EM and F1, the sentence's F1 on the same."""
    tally: dict[str, list[tuple[float, float, float]]] = {}
    for question, _, sentence, golds in rows:
        kind = answer_types.of(question)
        name = kind.name if kind else ("what/which" if short.ASKS_THING.search(question) else "other")
        got = short.span(question, sentence)
        row = (max(exact_match(got.text, g) for g in golds), max(f1(got.text, g) for g in golds),
               max(f1(sentence, g) for g in golds)) if got else (-1.0, -1.0, -1.0)
        tally.setdefault(name, []).append(row)
        tally.setdefault("all", []).append(row)
    out = []
    for name, seen in tally.items():
        marked = [r for r in seen if r[0] >= 0]
        n = max(1, len(marked))
        out.append({"type": name, "questions": len(seen), "short answers": len(marked),
                    "EM": sum(r[0] for r in marked) / n, "F1": sum(r[1] for r in marked) / n,
                    "sentence F1": sum(r[2] for r in marked) / n})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path, help="folder with dev-v2.0.json")
    ap.add_argument("--part", default="test", help="split part of train/splits/squad2.json (default: test)")
    a = ap.parse_args()
    if not (a.data_dir / "dev-v2.0.json").is_file():
        print(f"error: {a.data_dir / 'dev-v2.0.json'} not found", file=sys.stderr)
        return 2
    rows = questions(a.data_dir, a.part)
    print(f"SQuAD 2.0, {a.part} articles: {len(rows)} answerable questions, the gold sentence given")
    print(table(scored(rows), ["type", "questions", "short answers", "EM", "F1", "sentence F1"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
