"""Names spelt otherwise: the seed eval's questions with their names respelt by rule (`text.names.respell`),
answered with and without the question's names written the corpus's way.

    python bench/respelled.py [--split all]

Only the questions that `respell` changes are asked (Tokayev -> Tokaev, Luhansk -> Lugansk, ...).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

from rag import evaluate
from rag.answer.retrieve import Retriever
from rag.config import get_settings
from rag.text import names


def respelt_set(split: str, folder: Path) -> tuple[Path, int]:
    """A question file of the split's questions whose names `respell` changes, respelt."""
    rows = []
    for q in evaluate.load_set(evaluate.DEFAULT_SET, split):
        new = names.respell(q.question)
        if new:
            rows.append({**asdict(q), "question": new, "split": ""})
    path = folder / "respelt.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path, len(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="all", choices=evaluate.SPLITS)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, n = respelt_set(a.split, Path(tmp))
        on = evaluate.run(get_settings(), path)["overall"]
        keep = Retriever.respell
        Retriever.respell = lambda self, question: question  # type: ignore[method-assign]
        try:
            off = evaluate.run(get_settings(), path)["overall"]
        finally:
            Retriever.respell = keep  # type: ignore[method-assign]
    print(f"{n} questions of split {a.split} respelt")
    print("| metric | names as asked | names written the corpus's way |\n|---|---|---|")
    for m in ("recall@k", "answer_accuracy", "false_refusal_rate", "refusal_accuracy"):
        print(f"| {m} | {off.get(m)} | {on.get(m)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
