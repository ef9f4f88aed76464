"""Time to the first words and to the verified answer, with a model answering.

    python bench/first_delta.py [--llm local] [--split holdout] [--n 8] [--json]

Each question goes through the pipeline as the API's stream does: the first `delta` is the offline ranker's
verified answer (`on_offline`), or the model's first token where there is none (a refusal, or a model
without the ranker); the verified answer is `ask` returning. The model server starts before the clock
(one warm-up question, not counted). Prints each question's times and the p50s, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from common import ROOT

from rag import evaluate
from rag.answer import pipeline
from rag.config import get_settings


def timed(p: pipeline.Pipeline, question: str) -> dict[str, object]:
    """One question: ms to the first delta, whether it was the offline answer, ms to the verified answer."""
    first: list[tuple[float, bool]] = []
    t0 = time.perf_counter()

    def mark(offline: bool) -> None:
        if not first:
            first.append(((time.perf_counter() - t0) * 1000, offline))

    a = p.ask(question, on_token=lambda _: mark(False), on_offline=lambda _: mark(True))
    done = (time.perf_counter() - t0) * 1000
    at, offline = first[0] if first else (done, False)
    return {"question": question, "first_delta_ms": round(at, 1), "offline_first": offline,
            "verified_ms": round(done, 1), "refused": a.refused}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm", default="local")
    ap.add_argument("--split", default="holdout")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    p = pipeline.build(get_settings().model_copy(update={"llm": args.llm}))
    questions = [q.question for q in evaluate.load_set(ROOT / "eval" / "questions.jsonl", args.split)][: args.n]
    p.ask(questions[0])  # warm-up: the model's first prompt and the caches
    rows = [timed(p, q) for q in questions]
    p50 = {k: statistics.median(float(r[k]) for r in rows) for k in ("first_delta_ms", "verified_ms")}  # type: ignore[arg-type]
    if args.json:
        print(json.dumps({"rows": rows, "p50": p50}))
        return
    for r in rows:
        print(f"{r['first_delta_ms']:8.0f} {'offline' if r['offline_first'] else 'model  '} {r['verified_ms']:8.0f}"
              f"{'  refused' if r['refused'] else ''}  {r['question']}")
    print(f"p50 first delta {p50['first_delta_ms']:.0f} ms, verified answer {p50['verified_ms']:.0f} ms, over {len(rows)}")


if __name__ == "__main__":
    main()
