"""Retrieval quality on a BEIR data set: nDCG@10, Recall@10, Recall@100 and MRR@10 per retrieval mode.

    python bench/beir.py ../shared/benchmarks/scifact-beir [--json] [--index DIR] [--store faiss|milvus]

DATA_DIR holds corpus.jsonl (_id, title, text), queries.jsonl (_id, text) and qrels/test.tsv.
Documents are indexed as paragraphs (title embedded with each); a document ranks where its
best paragraph ranks. The index is cached under index/bench/<data set>.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from common import cached_index, progress, table

from rag import index
from rag.answer.retrieve import Retriever
from rag.index import embed, store

# name -> (mode, fusion weights): the plain modes and the fusion variants worth trying
VARIANTS: dict[str, tuple[str, dict[str, float]]] = {
    "bm25": ("bm25", {}),
    "dense": ("dense", {}),
    "hybrid": ("hybrid", {}),
    "hybrid_bm25x2": ("hybrid", {"bm25": 2.0}),
    "hybrid_densex2": ("hybrid", {"dense": 2.0}),
}
POOL = 200  # paragraphs taken from each retriever: enough for 100 documents


def load_qrels(folder: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    path = folder / "qrels" / "test.tsv"
    for line in path.read_text().splitlines()[1:]:
        qid, doc, score = line.split("\t")
        if int(score) > 0:
            qrels.setdefault(qid, {})[doc] = int(score)
    return qrels


def metrics(ranked: list[str], relevant: dict[str, int]) -> dict[str, float]:
    dcg = sum(relevant.get(d, 0) / math.log2(r + 2) for r, d in enumerate(ranked[:10]))
    ideal = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(relevant.values(), reverse=True)[:10]))
    first = next((r for r, d in enumerate(ranked[:10], 1) if d in relevant), None)
    return {
        "ndcg@10": dcg / ideal if ideal else 0.0,
        "recall@10": len(set(ranked[:10]) & set(relevant)) / len(relevant),
        "recall@100": len(set(ranked[:100]) & set(relevant)) / len(relevant),
        "mrr@10": 1.0 / first if first else 0.0,
    }


def documents(retriever: Retriever, question: str) -> list[str]:
    """Document ids by their best paragraph's rank."""
    out: dict[str, None] = {}
    for i, _ in retriever.rank(question, POOL):
        out.setdefault(retriever.index.paragraphs[i].source, None)
    return list(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path, help="a BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    ap.add_argument("--index", type=Path, help="index folder to use (default index/bench/<data set>)")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--store", default="faiss", choices=store.STORES, help="where the index is searched (Milvus Lite for milvus)")
    a = ap.parse_args()
    if not (a.data_dir / "corpus.jsonl").is_file() or not (a.data_dir / "qrels" / "test.tsv").is_file():
        print(f"error: {a.data_dir} is not a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)", file=sys.stderr)
        return 2
    name = a.data_dir.resolve().name
    idx, embedder = cached_index(a.data_dir, name, a.index, index.Where(a.store))
    qrels = load_qrels(a.data_dir)
    queries = {q["_id"]: q["text"] for q in map(json.loads, (a.data_dir / "queries.jsonl").read_text().splitlines())}
    qids = [q for q in queries if q in qrels]
    results: dict[str, dict[str, float]] = {}
    timing: dict[str, float] = {}
    cached = embed.Cached(embedder)  # query embeddings computed once for all variants
    for variant in a.variants:
        mode, weights = VARIANTS[variant]
        retriever = Retriever(idx, cached, mode, weights)
        retriever.embed([queries[q] for q in qids])
        t0 = time.perf_counter()
        per_query = [metrics(documents(retriever, queries[q]), qrels[q]) for q in progress(qids, variant)]
        timing[variant] = (time.perf_counter() - t0) / len(qids) * 1000
        results[variant] = {m: round(sum(r[m] for r in per_query) / len(per_query), 4) for m in per_query[0]}
    if a.json:
        print(json.dumps({"dataset": name, "store": a.store, "results": results, "ms_per_query": timing}))
    else:
        rows = [{"mode": v, **r, "ms/query": round(timing[v], 1)} for v, r in results.items()]
        print(f"{name} ({a.store}): {len(qids)} queries, {len(idx.manifest['files'])} file, {len(idx.paragraphs)} paragraphs")
        print(table(rows, ["mode", "ndcg@10", "recall@10", "recall@100", "mrr@10", "ms/query"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
