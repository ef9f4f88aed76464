"""The default store: a FAISS index over unit vectors and a bm25s index in the process, each a plain file of the build
(the bm25s index is built with bm25s and searched through its postings, `postings.Postings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rag import text as T
from rag.errors import InputError
from rag.index.store.postings import Postings

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


def search_params(index: Any, rows: np.ndarray, wide: bool = False) -> Any:
    """FAISS search parameters that keep only `rows`, for the index's kind; `wide` probes every IVF cell and
    a far larger HNSW neighbourhood, for a selection too narrow for the usual settings to reach."""
    import faiss as F

    faiss: Any = F  # its stubs lack the parameter classes' keyword arguments
    sel = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
    if hasattr(index, "nprobe"):
        params: Any = faiss.SearchParametersIVF(sel=sel, nprobe=index.nlist if wide else index.nprobe)
    elif hasattr(index, "hnsw"):
        params = faiss.SearchParametersHNSW(sel=sel, efSearch=4096 if wide else index.hnsw.efSearch)
    else:
        params = faiss.SearchParameters(sel=sel)
    return params


def bm25_index(texts: list[str]) -> Any:
    """A bm25s index over the texts' stems (saved into a build by `save`; searched through `Postings.of`)."""
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index([T.stems(t) or ["_"] for t in texts], show_progress=False)
    return bm25


class Local:
    """FAISS and bm25s over one build's rows; `add` and `delete` rebuild both in memory (a build is rewritten whole)."""

    name = "faiss"
    server_fusion = False

    def __init__(self, faiss_idx: Any, bm25: Postings | None, keys: list[str], texts: list[str] | None = None,
                 vectors: np.ndarray | None = None) -> None:
        self.faiss, self.bm25, self._keys = faiss_idx, bm25, keys
        self._texts, self._vectors = texts, vectors  # kept only by a store built in memory, so that it can change

    @classmethod
    def build(cls, keys: list[str], texts: list[str], vectors: np.ndarray, kind: str = "flat") -> Local:
        bm25 = Postings.of(bm25_index(texts)) if texts else None
        return cls(faiss_index(vectors, kind), bm25, list(keys), list(texts), vectors)

    def add(self, keys: list[str], texts: list[str], vectors: np.ndarray) -> None:
        self._editable()
        kept = [i for i, k in enumerate(self._keys) if k not in set(keys)]
        self._rebuild([self._keys[i] for i in kept] + keys, [self._texts[i] for i in kept] + texts,  # type: ignore[index]
                      np.vstack([self._vectors[kept], vectors]) if len(kept) else vectors)  # type: ignore[index]

    def delete(self, keys: list[str]) -> None:
        self._editable()
        kept = [i for i, k in enumerate(self._keys) if k not in set(keys)]
        self._rebuild([self._keys[i] for i in kept], [self._texts[i] for i in kept], self._vectors[kept])  # type: ignore[index]

    def dense(self, vector: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[int]:
        if not self._keys:
            return []
        q, k = vector.reshape(1, -1).astype(np.float32), min(k, len(self._keys) if rows is None else len(rows))
        if rows is None:
            return [int(i) for i in self.faiss.search(q, k)[1][0] if i >= 0]
        found = [int(i) for i in self.faiss.search(q, k, params=search_params(self.faiss, rows))[1][0] if i >= 0]
        if len(found) < k:  # the probed IVF cells or HNSW neighbours held too few of the rows: look wider
            found = [int(i) for i in self.faiss.search(q, k, params=search_params(self.faiss, rows, True))[1][0] if i >= 0]
        return found

    def lexical(self, question: str, k: int, rows: np.ndarray | None = None) -> list[int]:
        tokens = [t for t in T.stems(question) if t in self.bm25.vocab] if self.bm25 is not None else []
        if self.bm25 is None or not tokens:
            return []
        if rows is not None:  # every row scored, then the top k taken among `rows` only (faster than a weight mask)
            kept = self.bm25.scores(tokens)[rows]
            top = np.argpartition(-kept, k - 1)[:k] if k < len(kept) else np.arange(len(kept))
            top = top[np.lexsort((rows[top], -kept[top]))]
            return [int(rows[i]) for i in top if kept[i] > 0]
        ids, scores = self.bm25.top(tokens, min(k, len(self._keys)))
        return [int(i) for i, s in zip(ids, scores) if s > 0]

    def fused(self, vector: np.ndarray, question: str, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        from rag.index.store import rrf

        return rrf({"dense": self.dense(vector, k, rows), "bm25": self.lexical(question, k, rows)})[:k]

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        rows = {key: i for i, key in enumerate(self._keys)}
        return {key: np.asarray(self.faiss.reconstruct(rows[key])) for key in keys if key in rows}

    def keys(self) -> set[str]:
        return set(self._keys)

    def _editable(self) -> None:
        if self._texts is None or self._vectors is None:
            raise TypeError("a store read from a build is rewritten by `index.build`, not edited")

    def _rebuild(self, keys: list[str], texts: list[str], vectors: np.ndarray) -> None:
        fresh = Local.build(keys, texts, vectors.reshape(len(keys), -1) if len(keys) else vectors)
        self.__dict__.update(fresh.__dict__)
