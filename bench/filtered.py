"""A filtered search against an unfiltered one on the default store, at 100k synthetic paragraphs.

    python bench/filtered.py [--size 100000] [--kinds flat ivf milvus] [--queries 50]

The vectors and texts of bench/scale.py (seed 0), ten paragraphs a document. Per FAISS kind, and for
a Milvus Lite collection (`milvus`): the p50 of a dense and a BM25 search for 50 pooled rows (what a
question's retrieval asks the store for; on Milvus also the fused search it runs itself), without a
filter and with filters keeping 1% and 10% of the documents, and whether every filtered hit is a
kept row. The filter's rows are computed once per query, as `Retriever.search` does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from common import table
from scale import texts, vectors

from rag.index import store

POOL, PER_DOCUMENT = 50, 10


def p50(fn, n: int) -> float | str:  # type: ignore[no-untyped-def]
    """The median milliseconds of `fn(0..n-1)`; a call past the store's timeout counts as infinitely slow."""
    from rag.errors import StoreError

    lat = []
    for i in range(n):
        t = time.perf_counter()
        try:
            fn(i)
            lat.append((time.perf_counter() - t) * 1000)
        except StoreError:
            lat.append(float("inf"))
    late = sum(x == float("inf") for x in lat)
    median = round(float(np.percentile(lat, 50)), 2)
    return f"{median} ({late} timed out)" if late else median


def rows_for(share: float, n: int, seed: int) -> np.ndarray:
    documents = np.random.default_rng(seed).permutation(n // PER_DOCUMENT)[: max(1, int(share * n / PER_DOCUMENT))]
    return np.sort((documents[:, None] * PER_DOCUMENT + np.arange(PER_DOCUMENT)).ravel())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--kinds", nargs="+", default=["flat", "ivf"])
    ap.add_argument("--queries", type=int, default=50)
    a = ap.parse_args()
    vecs, docs = vectors(a.size), texts(a.size)
    queries = vecs[np.random.default_rng(1).integers(0, a.size, a.queries)]
    words = [" ".join(docs[i].split()[:6]) for i in np.random.default_rng(2).integers(0, a.size, a.queries)]
    out = []
    with ExitStack() as stack:
        for kind in a.kinds:
            st = milvus(vecs, docs, stack) if kind == "milvus" else store.Local.build([str(i) for i in range(a.size)], docs, vecs, kind)
            for share in (None, 0.01, 0.1):
                rows = None if share is None else rows_for(share, a.size, 3)
                kept = set(range(a.size)) if rows is None else set(rows.tolist())
                dense = p50(lambda i, st=st, rows=rows: st.dense(queries[i], POOL, rows), a.queries)  # type: ignore[misc]
                lexical = p50(lambda i, st=st, rows=rows: st.lexical(words[i], POOL, rows), a.queries)  # type: ignore[misc]
                fused = p50(lambda i, st=st, rows=rows: st.fused(queries[i], words[i], POOL, rows), a.queries) \
                    if st.server_fusion else None  # type: ignore[misc]
                only = all(set(st.dense(q, POOL, rows)) <= kept for q in queries[:10])
                out.append({"kind": kind, "filter": "none" if share is None else f"{share:.0%} of documents",
                            "dense_p50_ms": dense, "bm25_p50_ms": lexical, "fused_p50_ms": "" if fused is None else fused,
                            "only_kept": only})
    print(table(out, ["kind", "filter", "dense_p50_ms", "bm25_p50_ms", "fused_p50_ms", "only_kept"]))
    return 0


def milvus(vecs: np.ndarray, docs: list[str], stack: ExitStack):  # type: ignore[no-untyped-def]
    """The paragraphs in a Milvus Lite collection in a temporary folder, written and sealed as a build does."""
    from rag.index.store.milvus import Milvus

    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="rag-filtered-"))
    keys = [f"k{i}" for i in range(len(vecs))]
    m = Milvus(str(Path(tmp) / "m.db"), "filtered", vecs.shape[1], keys)
    t = time.perf_counter()
    m.add(keys, docs, vecs)
    m.seal()
    print(f"{len(vecs):,} paragraphs into Milvus Lite in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    return m


if __name__ == "__main__":
    raise SystemExit(main())
