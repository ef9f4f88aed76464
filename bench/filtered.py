"""A filtered search against an unfiltered one on the default store, at 100k synthetic paragraphs.

    python bench/filtered.py [--size 100000] [--kinds flat ivf] [--queries 50]

The vectors and texts of bench/scale.py (seed 0), ten paragraphs a document. Per FAISS kind: the p50
of a dense and a BM25 search for 50 pooled rows (what a question's retrieval asks the store for),
without a filter and with filters keeping 1% and 10% of the documents, and whether every filtered
hit is a kept row. The filter's rows are computed once per query, as `Retriever.search` does.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import table
from scale import texts, vectors

from rag.index import store

POOL, PER_DOCUMENT = 50, 10


def p50(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    lat = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        lat.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(lat, 50))


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
    for kind in a.kinds:
        st = store.Local.build([str(i) for i in range(a.size)], docs, vecs, kind)
        for share in (None, 0.01, 0.1):
            rows = None if share is None else rows_for(share, a.size, 3)
            kept = set(range(a.size)) if rows is None else set(rows.tolist())
            dense = p50(lambda i, st=st, rows=rows: st.dense(queries[i], POOL, rows), a.queries)  # type: ignore[misc]
            lexical = p50(lambda i, st=st, rows=rows: st.lexical(words[i], POOL, rows), a.queries)  # type: ignore[misc]
            only = all(set(st.dense(q, POOL, rows)) <= kept for q in queries[:10])
            out.append({"kind": kind, "filter": "none" if share is None else f"{share:.0%} of documents",
                        "dense_p50_ms": round(dense, 2), "bm25_p50_ms": round(lexical, 2), "only_kept": only})
    print(table(out, ["kind", "filter", "dense_p50_ms", "bm25_p50_ms", "only_kept"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
