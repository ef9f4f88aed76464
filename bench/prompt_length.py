"""The local model's prompt: how many evidence sentences it reads, and its cached prefix, against accuracy and speed.

    python bench/prompt_length.py [--counts 3,6,9] [--uncached 6] [--split holdout] [--limit N]
        [--uncached-limit N] [--json]

For each count, RAG_LLM_EVIDENCE is set to it and the eval split goes through the pipeline with the local model
(design `evidence`), streaming as the API does, and is scored as `rag eval` scores it. For each count in
`--uncached`, the same again with llama.cpp's prompt cache off (`cache_prompt: false` on every request), so that
each prompt is evaluated whole instead of reusing the system prompt kept from the question before. Each run is
a process of its own, so that no run reuses prompts that llama.cpp cached (in RAM too) for another; one warm-up
question from the other split starts the server and caches the system prompt, and is not counted. Requests
may take 300 s (RAG_LLM_TIMEOUT's 30 s can pass on a loaded machine, and a run would stop there).

Per run: answer accuracy, refusal accuracy, false refusals, citation recall and precision; over the questions that reached
the model, the prompt's tokens (llama.cpp's prompt_n + cache_n), the tokens it reused from its cache, and p50/p95
of its prompt evaluation, its generation, the first model token (from the question in) and the verified answer.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from common import table

from rag import evaluate
from rag.answer import pipeline
from rag.config import get_settings

COLUMNS = ["evidence", "cache", "model calls", "answer_accuracy", "refusal_accuracy", "false_refusal_rate",
           "citation_recall", "citation_precision", "prompt tokens", "cached tokens", "prompt p50", "prompt p95", "generation p50",
           "generation p95", "first token p50", "first token p95", "verified p50", "verified p95"]


def instrument(llm: Any, cache: bool, seen: list[dict[str, float]]) -> None:
    """Every request to the model server gets `cache_prompt` as given; the timings it reports go to `seen`."""
    create = llm.client.chat.completions.create

    def recording(stream: Iterator[Any]) -> Iterator[Any]:
        for chunk in stream:
            if timings := (chunk.model_extra or {}).get("timings"):
                seen.append(timings)
            yield chunk

    def created(**options: Any) -> Any:
        out = create(**options, extra_body={"cache_prompt": cache})
        if options.get("stream"):
            return recording(out)
        if timings := (out.model_extra or {}).get("timings"):
            seen.append(timings)
        return out

    llm.client.chat.completions.create = created


def asked(p: pipeline.Pipeline, q: evaluate.Question, seen: list[dict[str, float]]) -> dict[str, Any]:
    """One question, streamed: its score as the eval scores it, and its times in ms."""
    first: list[float] = []
    seen.clear()
    t0 = time.perf_counter()
    a = p.ask(q.question, k=5, on_token=lambda _: first.append(time.perf_counter()) if not first else None)
    done = time.perf_counter()
    row = evaluate.score(q, a.to_dict(), _documents(p), 5)
    if seen:
        row |= {"calls": len(seen), "prompt_tokens": sum(t.get("prompt_n", 0) + t.get("cache_n", 0) for t in seen),
                "cached_tokens": sum(t.get("cache_n", 0) for t in seen), "prompt": a.timings_ms.get("llm_prompt", 0.0),
                "generation": a.timings_ms.get("llm_generation", 0.0),
                "first_token": ((first[0] if first else done) - t0) * 1000, "verified": (done - t0) * 1000}
    return row


def _documents(p: pipeline.Pipeline) -> dict[str, str]:
    return {name: d["text"] for name, d in p.retriever.index.documents.items()}


def run(count: int, cache: bool, questions: list[evaluate.Question], warm_up: str) -> dict[str, Any]:
    """The split with `count` evidence sentences and the prompt cache on or off: its figures, one table row."""
    s = get_settings().model_copy(update={"llm": "local", "llm_design": "evidence", "llm_evidence": count,
                                             "llm_timeout": 300.0})
    p = pipeline.build(s)
    seen: list[dict[str, float]] = []
    instrument(p.generator.llm, cache, seen)  # type: ignore[attr-defined]
    p.ask(warm_up)
    rows = []
    for i, q in enumerate(questions, 1):
        rows.append(asked(p, q, seen))  # each on stderr too, as JSON, to read a run stopped halfway
        print(json.dumps({"evidence": count, "cache": cache, "i": i, **rows[-1]}, default=str), file=sys.stderr, flush=True)
    overall = evaluate.summarise(rows)
    out: dict[str, Any] = {"evidence": count, "cache": "on" if cache else "off",
                           "model calls": sum(1 for r in rows if "calls" in r)}
    out |= {m: overall[m] for m in ("answer_accuracy", "refusal_accuracy", "false_refusal_rate", "citation_recall",
                                   "citation_precision")}
    return out | _times([r for r in rows if "calls" in r])


def _times(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean prompt tokens, and p50/p95 ms of each stage, over the questions that reached the model."""
    if not rows:
        return {}
    out: dict[str, Any] = {"prompt tokens": round(float(np.mean([r["prompt_tokens"] for r in rows]))),
                           "cached tokens": round(float(np.mean([r["cached_tokens"] for r in rows])))}
    for key, name in (("prompt", "prompt"), ("generation", "generation"), ("first_token", "first token"),
                      ("verified", "verified")):
        values = [r[key] for r in rows]
        out |= {f"{name} p50": round(float(np.percentile(values, 50))), f"{name} p95": round(float(np.percentile(values, 95)))}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="3,6,9", help="evidence sentences to try, comma-separated")
    ap.add_argument("--uncached", default="6", help="counts to try again with the prompt cache off ('' for none)")
    ap.add_argument("--split", default="holdout", choices=evaluate.SPLITS)
    ap.add_argument("--limit", type=int, default=0, help="ask only the first N questions (0: all)")
    ap.add_argument("--uncached-limit", type=int, default=0, help="the cache-off runs ask only the first N (0: as --limit)")
    ap.add_argument("--json", action="store_true", help="print one JSON line per run instead of a table")
    ap.add_argument("--one", default="", help=argparse.SUPPRESS)  # COUNT,CACHE: one run in this process, as JSON
    a = ap.parse_args()
    if a.one:
        count, cache = (int(x) for x in a.one.split(","))
        questions = evaluate.load_set(evaluate.DEFAULT_SET, a.split)[: a.limit or None]
        other = evaluate.load_set(evaluate.DEFAULT_SET, "holdout" if a.split == "calibration" else "calibration")
        print(json.dumps(run(count, bool(cache), questions, next(q.question for q in other if q.answerable))))
        return 0
    plan = [(int(n), 1) for n in a.counts.split(",")] + [(int(n), 0) for n in a.uncached.split(",") if n]
    results = []
    for count, cache in plan:
        limit = a.limit if cache else a.uncached_limit or a.limit
        cmd = [sys.executable, __file__, "--one", f"{count},{cache}", "--split", a.split, "--limit", str(limit)]
        results.append(json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()[-1]))
        if a.json:
            print(json.dumps(results[-1]), flush=True)
    if not a.json:
        print(table(results, COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
