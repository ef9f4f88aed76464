"""The local model's drafts, sentence by sentence with the passage each cites: the items of eval/verify/.

    python bench/verify_drafts.py ../shared/benchmarks [--sources seed,realtimeqa,rgb] [--seed-n 150] [--rtqa-n 30] [--rgb-n 36] [--budget 2400]

Three sources, each asked through the local model's generator (RAG_LLM_DESIGN as set, evidence-first
by default) before any verification:
- seed: questions of eval/questions.jsonl (every `len/seed-n`-th) over the seed index, as `pipeline.ask` retrieves;
- realtimeqa: sampled questions, the hit list the K paragraphs of the question's gold and search-result
  articles that embed nearest to it;
- rgb: sampled en_fact questions, the K passages of its positives and negatives nearest to it (as bench/rgb.py).

One item per (sentence, cited passage). Seed items carry the passage's text; public ones a reference
into the benchmarks folder (file, question id, result or list index, character span), never the text.
Generation stops at `--budget` seconds in all; items are appended as they come (one JSON line each).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT

from rag import text as T
from rag.answer import pipeline
from rag.answer import verify as V
from rag.answer.designs import candidates
from rag.answer.retrieve import Hit, counted_idf
from rag.config import get_settings
from rag.ingest.corpus import Paragraph, from_plain

K = 5
PAIR = 2  # questions asked at once (RAG_LLM_PARALLEL's default)
Case = tuple[str, str, list[Hit], list[dict[str, Any]]]  # question id, question, hits, each hit's reference


def seed_cases(pipe: pipeline.Pipeline, n: int) -> Iterator[Case]:
    """Every len/n-th eval question over the seed index, with the hits the pipeline retrieves."""
    rows = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines() if line.strip()]
    for r in rows[:: max(1, len(rows) // n)][:n]:
        parts = T.split_question(r["question"])
        hits = pipe.retrieve(r["question"], parts, pipe.settings.k)
        refs = [{"id": h.paragraph.id, "start": h.paragraph.start, "end": h.paragraph.end, "text": h.paragraph.text}
                for h in hits]
        yield r["id"], r["question"], hits, refs


def nearest(question: str, texts: list[str], embed_fn: Any) -> list[int]:
    """Indexes of the K texts that embed nearest to `question`."""
    cosines = embed_fn(texts) @ embed_fn([question])[0]
    return [int(i) for i in np.argsort(-cosines)[:K]]


def read_gz(path: Path) -> dict[str, dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as h:
        return {r["question_id"]: r for r in map(json.loads, h) if r}


def rtqa_articles(folder: Path, qid: str) -> list[tuple[str, int, str]]:
    """(file, result index, text) of the question's gold article and its search results."""
    week = qid.split("_")[0]
    out = []
    for kind in ("gold", "gcs"):
        path = folder / kind / f"{week}_{kind}.jsonl.gz"
        row = read_gz(path).get(qid) if path.is_file() else None
        for i, r in enumerate(((row or {}).get("search_result") or [])[:5]):
            if (r.get("text") or "").strip():
                out.append((f"realtimeqa/{kind}/{path.name}", i, r["text"]))
    return out


def rtqa_cases(bench: Path, n: int, embed_fn: Any, seed: int = 0) -> Iterator[Case]:
    """Sampled RealTime QA questions, each with the K paragraphs of its articles nearest to it."""
    folder = bench / "realtimeqa"
    rows = [json.loads(line) for line in (folder / "20220617-20221014_qa.jsonl").read_text().splitlines() if line.strip()]
    for r in random.Random(seed).sample(rows, min(n, len(rows))):
        paras = [(f, i, p) for f, i, text in rtqa_articles(folder, r["question_id"])
                 for p in from_plain(f"rtqa-{i}", "", text).paragraphs]
        if not paras:
            continue
        picked = [paras[j] for j in nearest(r["question_sentence"], [p.text for _, _, p in paras], embed_fn)]
        hits = [Hit(Paragraph(f"{p.source}#{f}#{p.id}", p.source, "", p.start, p.end, p.text), 1.0) for f, _, p in picked]
        refs = [{"file": f, "question_id": r["question_id"], "result": i, "start": p.start, "end": p.end}
                for f, i, p in picked]
        yield r["question_id"], r["question_sentence"], hits, refs


def rgb_cases(bench: Path, n: int, embed_fn: Any, seed: int = 0) -> Iterator[Case]:
    """Sampled RGB en_fact questions, each with the K of its passages (positive and negative) nearest to it."""
    rows = [json.loads(line) for line in (bench / "rgb" / "en_fact.json").read_text().splitlines() if line.strip()]
    for r in random.Random(seed).sample(rows, min(n, len(rows))):
        every = [("positive", i, t) for i, t in enumerate(r["positive"])] + [("negative", i, t) for i, t in enumerate(r["negative"])]
        seen: dict[str, tuple[str, int, str]] = {}
        pool = [seen.setdefault(t, (kind, i, t)) for kind, i, t in every if t not in seen]  # each text once
        picked = [pool[j] for j in nearest(r["query"], [t for _, _, t in pool], embed_fn)]
        hits = [Hit(Paragraph(f"rgb-{kind}-{i}#p1", f"rgb-{kind}-{i}", "", 0, len(t), t), 1.0) for kind, i, t in picked]
        refs = [{"file": "rgb/en_fact.json", "question_id": r["id"], "list": kind, "index": i, "start": 0, "end": len(t)}
                for kind, i, t in picked]
        yield str(r["id"]), r["query"], hits, refs


def items(source: str, case: Case, draft: str, generator: str, first: int) -> list[dict[str, Any]]:
    """One item per (sentence, cited passage) of `draft`; a sentence citing nothing is paired with hit `first`
    (the passage of the ranker's best sentence, which the answer was written from), marked `"cited": false`."""
    qid, question, hits, refs = case
    out = []
    for sentence, markers in V.parse(draft):
        cited = [m for m in dict.fromkeys(markers) if 1 <= m <= len(hits)]
        for m in cited or ([first] if not markers and first else []):
            out.append({"source": source, "question_id": qid, "sentence": sentence, "cited": bool(cited),
                        "cites": len(cited), "passage": refs[m - 1], "generator": generator}
                       | ({"question": question} if source == "seed" else {}))
    return out


def first_evidence(pipe: pipeline.Pipeline, question: str, hits: list[Hit]) -> int:
    """The hit (1-based) of the ranker's best sentence for `question`; 0 when there is none."""
    ranker = getattr(pipe.generator, "ranker", None)
    found = candidates(ranker, T.split_question(question), hits, 1) if ranker is not None else []
    return found[0].n if found else 0


def run(cases: Iterator[tuple[str, Case]], pipe: pipeline.Pipeline, out: Path, budget: float) -> dict[str, int]:
    """Each case's draft written out as items, until the cases or the budget run out; items per source.
    A question already in `out` is skipped, so that a stopped run can go on."""
    done = {(r["source"], r["question_id"]) for r in map(json.loads, out.open())} if out.exists() else set()
    counts: dict[str, int] = {}
    t0, n = time.monotonic(), sum(1 for _ in out.open()) if out.exists() else 0
    with out.open("a", encoding="utf-8") as f:
        todo = [(source, case) for source, case in cases if (source, case[0]) not in done]
        for i in range(0, len(todo), PAIR):
            if time.monotonic() - t0 > budget:
                print(f"budget of {budget:.0f}s spent", file=sys.stderr)
                break
            t1 = time.monotonic()
            with ThreadPoolExecutor(PAIR) as pool:  # the local server answers two requests at once
                made = [it for part in pool.map(lambda sc: drafted(pipe, *sc), todo[i : i + PAIR]) for it in part]
            for item in made:
                n += 1
                f.write(json.dumps({"id": f"v{n:04d}", "n": n, **item}, ensure_ascii=False) + "\n")
                counts[item["source"]] = counts.get(item["source"], 0) + 1
            f.flush()
            print(f"{i}: {len(made)} items in {time.monotonic() - t1:.1f}s", file=sys.stderr)
    return counts


def drafted(pipe: pipeline.Pipeline, source: str, case: Case) -> list[dict[str, Any]]:
    """The items of the generator's draft for `case`; none when it refuses."""
    _, question, hits, _ = case
    draft = pipe.generator.generate(question, T.split_question(question), hits)
    return [] if draft.refused else items(source, case, draft.text, draft.generator, first_evidence(pipe, question, hits))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bench_dir", type=Path, help="the benchmarks folder (realtimeqa/, rgb/)")
    ap.add_argument("--seed-n", type=int, default=150)
    ap.add_argument("--rtqa-n", type=int, default=30)
    ap.add_argument("--rgb-n", type=int, default=36)
    ap.add_argument("--budget", type=float, default=2400, help="seconds of generation, shared equally by the sources")
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "verify" / "items.jsonl")
    ap.add_argument("--sources", default="seed,realtimeqa,rgb")
    a = ap.parse_args()
    pipe = pipeline.build(get_settings().model_copy(update={"llm": "local", "llm_timeout": 300.0}))
    embed_fn = pipe.retriever.embed
    ranker = getattr(pipe.generator, "ranker", None)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"{datetime.now(UTC):%Y-%m-%dT%H:%MZ} {pipe.generator.name}", file=sys.stderr)
    total: dict[str, int] = {}
    for source in a.sources.split(","):
        if source == "seed":
            cases: Iterator[Case] = seed_cases(pipe, a.seed_n)
        elif source == "realtimeqa":
            cases = rtqa_cases(a.bench_dir, a.rtqa_n, embed_fn)
        else:
            cases = rgb_cases(a.bench_dir, a.rgb_n, embed_fn)
        if ranker is not None and source != "seed":  # the ranker's word weights from that source's passages
            cases = iter(listed := list(cases))
            ranker.idf = counted_idf([h.paragraph.text for _, _, hs, _ in listed for h in hs])
        total |= run(((source, c) for c in cases), pipe, a.out, a.budget / len(a.sources.split(",")))
        print(f"{source}: {total.get(source, 0)} items", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
