"""The search structures of a build: a FAISS index over unit vectors and a bm25s index, each a plain file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rag import text as T
from rag.errors import InputError

# `auto` switches from exact search to IVF above this many paragraphs. Measured by bench/scale.py
# (BENCHMARKS.md): at 100k flat takes 23 ms a query, IVF 0.4 ms at recall@10 1.0; at 1M flat takes
# 363 ms, IVF 1.0 ms at recall 1.0 and builds in 43 s, HNSW 0.7 ms at recall 0.88 after 290 s.
APPROXIMATE_ABOVE = 100_000
KINDS = ("flat", "hnsw", "ivf", "auto")
IVF_NPROBE = 16


def read_faiss(path: Path) -> Any:
    """The FAISS index, memory-mapped where FAISS allows (its vectors stay on disk until searched)."""
    import faiss

    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        index = faiss.read_index(str(path))
    if hasattr(index, "nprobe"):
        index.nprobe = IVF_NPROBE
    return index


def choose_kind(kind: str, n: int) -> str:
    if kind not in KINDS:
        raise InputError(f"unknown index kind {kind!r}: choose one of {', '.join(KINDS)}")
    chosen = ("ivf" if n > APPROXIMATE_ABOVE else "flat") if kind == "auto" else kind
    return "flat" if chosen == "ivf" and n < 1000 else chosen  # too few vectors to train IVF cells on


def faiss_index(vectors: np.ndarray, kind: str) -> Any:
    """An inner-product FAISS index over unit vectors: exact (flat) or approximate (HNSW, IVF)."""
    import faiss

    dim = vectors.shape[1]
    index: Any
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    elif kind == "ivf" and len(vectors) >= 1000:  # nlist = 4√n cells, trained on up to 40 points a cell
        nlist = int(4 * np.sqrt(len(vectors)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)
        index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
        index.nprobe = IVF_NPROBE
    else:  # flat, or too few vectors to train cells on
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def bm25_index(texts: list[str]) -> Any:
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index([T.stems(t) or ["_"] for t in texts], show_progress=False)
    return bm25
