"""Where an LLM answer's time goes, and what our path adds over a bare request to the same server.

    python bench/llm.py [--split calibration] [--limit N] [--json]

For each question of the eval split, `pipeline.ask` with the local model (RAG_LLM_DESIGN as set)
records its stages: retrieve, the model's prompt evaluation and generation (as llama.cpp reports
them), the rest of generating (ranking the evidence, the client), and verification. Then the very
messages it sent are sent again, bare, through the openai client to the same server, with the
prompt cache off so that the bare request evaluates the whole prompt as ours did the first time.
Two overheads are reported, per question and then their median: our total over the bare request's
wall time (the bare request evaluates its whole prompt, while ours may reuse the system prompt
cached from the question before, so this can fall below 1), and our total over the time llama.cpp
itself reports for the same request (prompt plus generation), which counts everything we add.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from common import progress, table

from rag.answer import pipeline
from rag.config import get_settings
from rag.evaluate import DEFAULT_SET, SPLITS, load_set

STAGES = ["retrieve", "llm_prompt", "llm_generation", "generate", "verify", "total", "bare"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="calibration", choices=SPLITS, help="eval split to ask")
    ap.add_argument("--limit", type=int, default=0, help="ask only the first N questions (0: all)")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of tables")
    a = ap.parse_args()
    pipe = pipeline.build(get_settings().model_copy(update={"llm": "local"}))
    llm = getattr(pipe.generator, "llm", pipe.generator)
    sent = recorded(pipe, llm)
    questions = load_set(DEFAULT_SET, a.split)
    questions = questions[: a.limit] if a.limit else questions
    rows = []
    for q in progress(questions, "asking"):
        sent.clear()
        answer = pipe.ask(q.question)
        rows.append({**answer.timings_ms, "bare": bare_ms(llm, sent), "calls": len(sent), "refused": answer.refused})
    result = summary(rows, pipe.generator.name)
    if a.json:
        print(json.dumps(result))
        return 0
    print(f"{result['generator']}: {len(rows)} questions, {result['model_calls']} asked the model")
    print(table([{"stage": st, "p50 ms": result["p50_ms"][st], "p95 ms": result["p95_ms"][st]} for st in STAGES],
                ["stage", "p50 ms", "p95 ms"]))
    print(f"\noverhead over a bare request, median of ours/bare: {result['overhead_ratio_p50']:.3f}")
    print(f"overhead over the model's own time, median of ours/(prompt+generation): {result['over_model_time_p50']:.3f}")
    return 0


def recorded(pipe: pipeline.Pipeline, llm: Any) -> list[list[dict[str, str]]]:
    """The list the model's messages are appended to, each time the pipeline sends some."""
    sent: list[list[dict[str, str]]] = []
    complete = llm.complete

    def recording(messages: list[dict[str, str]], *args: Any, **kw: Any) -> str:
        sent.append(messages)
        return complete(messages, *args, **kw)

    llm.complete = recording
    if hasattr(pipe.generator, "complete"):
        pipe.generator.complete = recording
    return sent


def bare_ms(llm: Any, calls: list[list[dict[str, str]]]) -> float:
    """The same requests sent again, bare (no retrieval, ranking, verification or client logic of ours), in ms."""
    t0 = time.perf_counter()
    for messages in calls:
        llm.client.chat.completions.create(model=llm.model, messages=messages, temperature=0,
                                           max_tokens=llm.max_tokens, extra_body={"cache_prompt": False})
    return (time.perf_counter() - t0) * 1000


def summary(rows: list[dict[str, Any]], generator: str) -> dict[str, Any]:
    """Stage medians and 95th percentiles over the questions that reached the model, and the two overheads."""
    asked = [r for r in rows if r["calls"]]
    return {
        "generator": generator, "questions": len(rows), "model_calls": len(asked),
        "p50_ms": {st: statistics.median(r.get(st, 0.0) for r in asked) for st in STAGES} if asked else {},
        "p95_ms": {st: _p95([r.get(st, 0.0) for r in asked]) for st in STAGES} if asked else {},
        "overhead_ratio_p50": statistics.median(r["total"] / r["bare"] for r in asked) if asked else None,
        "over_model_time_p50": statistics.median(r["total"] / (r["llm_prompt"] + r["llm_generation"]) for r in asked
                                                 if r.get("llm_prompt")) if asked else None,
        "refused_without_model": sum(1 for r in rows if not r["calls"]),
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


if __name__ == "__main__":
    sys.exit(main())
