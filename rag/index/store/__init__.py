"""The search store: what retrieval needs from an index, as one Protocol with two implementations.

    faiss.Local     FAISS (dense) and bm25s (lexical) inside the process, files in the build folder; the default
                    (bm25s builds the lexical index; `postings.Postings` searches it with numpy alone)
    milvus.Milvus   a Milvus collection (a Milvus Lite file, or a server by URI) with Milvus's own BM25 and RRF

Paragraphs are keyed by the hash of the text that was embedded (`index` writes these keys), so an
update upserts what changed and deletes what is gone. Searches answer with row numbers of the
build that opened the store, because rows are what the index's paragraph list is ordered by.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag import text as T
from rag.config import Settings
from rag.errors import InputError
from rag.index.store.faiss import (
    APPROXIMATE_ABOVE,
    IVF_NPROBE,
    KINDS,
    Local,
    bm25_index,
    choose_kind,
    faiss_index,
    read_faiss,
)
from rag.index.store.postings import Postings

STORES = ("faiss", "milvus")  # RAG_STORE

__all__ = ["APPROXIMATE_ABOVE", "IVF_NPROBE", "KINDS", "Local", "Postings", "STORES", "Where", "Store", "bm25_index", "choose_kind", "faiss_index",
           "read_faiss", "rrf"]

RRF_K = 60  # the usual reciprocal-rank-fusion constant


@dataclass(frozen=True)
class Where:
    """Which store an index lives in: `faiss` (files of the build) or `milvus` (a collection at a URI)."""

    name: str = "faiss"
    milvus_uri: str = ""  # empty: a Milvus Lite file, index/milvus.db
    milvus_token: str = ""

    @classmethod
    def of(cls, s: Settings) -> Where:
        """The store the settings name: RAG_STORE, RAG_MILVUS_URI and RAG_MILVUS_TOKEN."""
        return cls(s.store, s.milvus_uri, s.milvus_token)

    def manifest(self, index_dir: Path, dim: int) -> dict[str, Any]:
        if self.name not in STORES:
            raise InputError(f"unknown store {self.name!r}: choose one of {', '.join(STORES)}")
        if self.name == "faiss":
            return {"name": "faiss"}
        uri = self.milvus_uri or str((index_dir / "milvus.db").resolve())
        return {"name": "milvus", "uri": uri, "collection": f"rag_{dim}d_stems{T.TOKENS}"}  # new tokens, new collection


class Store(Protocol):
    name: str
    server_fusion: bool  # whether `fused` runs in the store itself (then the retriever does not fuse)

    def add(self, keys: list[str], texts: list[str], vectors: np.ndarray) -> None:
        """Insert or replace paragraphs by key: the text is searched lexically, the vector densely."""
        ...

    def delete(self, keys: list[str]) -> None:
        ...

    def dense(self, vector: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[int]:
        """Rows of the `k` nearest paragraphs by inner product, best first; only among `rows` when given
        (the selection is made inside the search, before the top `k` are taken)."""
        ...

    def lexical(self, question: str, k: int, rows: np.ndarray | None = None) -> list[int]:
        """Rows of up to `k` paragraphs by BM25, best first (none when no word of the question is known);
        only among `rows` when given."""
        ...

    def fused(self, vector: np.ndarray, question: str, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Rows and scores of the dense and lexical rankings fused by reciprocal rank, best first; only among
        `rows` when given."""
        ...

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of the keys it holds."""
        ...

    def keys(self) -> set[str]:
        ...


def rrf(rankings: dict[str, list[int]], weights: dict[str, float] | None = None) -> list[tuple[int, float]]:
    """Rows fused by reciprocal rank (weight / (60 + rank), summed), best first; ties by row.

    >>> rrf({"dense": [3, 1], "bm25": [1, 2]})[0][0]
    1
    """
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for r, i in enumerate(ranking, 1):
            fused[i] = fused.get(i, 0.0) + weight / (RRF_K + r)
    return sorted(fused.items(), key=lambda x: (-x[1], x[0]))
