"""Question -> ranked passages: dense and BM25 fused by reciprocal rank, near-duplicates collapsed.

Each hit also carries its sentences scored against the question, which answering and
citation checking use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from rag import text as T
from rag.embed import Embedder
from rag.index import Index

RRF_K = 60  # the usual reciprocal-rank-fusion constant
POOL = 50  # candidates taken from each retriever before fusion
MODES = ("hybrid", "dense", "bm25")
DEMONYM = {"n", "an", "ian", "ns", "ans", "ians"}


@dataclass(frozen=True)
class Sentence:
    start: int  # span in the original document
    end: int
    text: str
    score: float  # cosine with the question
    overlap: float  # idf-weighted share of the question's words it contains


@dataclass(frozen=True)
class Hit:
    id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    score: float  # fused score
    dense: float  # cosine of paragraph and question
    overlap: float = 0.0  # idf-weighted share of the question's words in title and text
    ranks: dict[str, int | None] = field(default_factory=dict)  # 1-based rank per retriever
    sentences: tuple[Sentence, ...] = ()

    def public(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("id", "source", "start", "end", "text", "score")}


class Retriever:
    """Holds the index and embedder; `search` is safe to call from several threads."""

    def __init__(
        self, index: Index, embedder: Embedder, mode: str = "hybrid", weights: dict[str, float] | None = None
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}: choose one of {', '.join(MODES)}")
        self.index, self.embedder, self.mode = index, embedder, mode
        self.weights = weights or {}  # per retriever ("dense", "bm25") in the rank fusion; 1.0 each by default
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.idf = _idf(index)

    def search(self, question: str, k: int = 5, sentences: bool = True) -> list[Hit]:
        """The `k` best passages for `question`, best first; with their sentences scored unless told not to."""
        q = self.embed([question])[0]
        ranked = self._fuse(q, question, max(POOL, 4 * k))
        hits: list[Hit] = []
        seen: list[set[tuple[str, ...]]] = []
        for i, score, ranks in ranked:
            p = self.index.paragraphs[i]
            sh = T.shingles(p.text)
            if any(T.containment(sh, s) >= 0.8 for s in seen):
                continue
            seen.append(sh)
            dense = float(np.dot(self.index.vectors[i], q))
            hits.append(Hit(p.id, p.source, p.title, p.start, p.end, p.text, score, dense, ranks=ranks))
            if len(hits) == k:
                break
        return [self._with_sentences(h, q, question) for h in hits] if sentences else hits

    def with_sentences(self, hits: list[Hit], question: str) -> list[Hit]:
        """The hits with their sentences scored against `question`."""
        q = self.embed([question])[0]
        return [self._with_sentences(h, q, question) for h in hits]

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings with a bounded cache, so sentences seen before cost nothing."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = self.embedder.encode(missing) if missing else None
        with self._lock:
            for t, v in zip(missing, fresh if fresh is not None else []):
                self._cache[t] = v
            while len(self._cache) > 20_000:
                self._cache.popitem(last=False)
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, self.embedder.dim))

    def overlap(self, question: str, text: str) -> float:
        """idf-weighted share of the question's word stems that `text` contains."""
        qs = set(T.stems(question))
        if not qs:
            return 0.0
        ts = set(T.stems(text))
        total = sum(self.idf.get(s, self.idf_max) for s in qs)
        return sum(self.idf.get(s, self.idf_max) for s in qs if s in ts or _in_compound(s, ts)) / total

    @property
    def idf_max(self) -> float:
        return max(self.idf.values(), default=1.0)

    def rank(self, question: str, pool: int = POOL) -> list[tuple[int, float]]:
        """(paragraph number, fused score) of up to `pool` paragraphs from each retriever, best first.

        No sentences and no near-duplicate collapse: the raw ranking, for measuring retrieval.
        """
        q = self.embed([question])[0]
        return [(i, score) for i, score, _ in self._fuse(q, question, pool)]

    def _fuse(self, q: np.ndarray, question: str, pool: int) -> list[tuple[int, float, dict[str, int | None]]]:
        lists: dict[str, list[int]] = {}
        n = len(self.index.paragraphs)
        if n == 0:
            return []
        if self.mode in ("hybrid", "dense"):
            _, ids = self.index.faiss.search(q.reshape(1, -1).astype(np.float32), min(pool, n))
            lists["dense"] = [int(i) for i in ids[0] if i >= 0]
        if self.mode in ("hybrid", "bm25"):
            lists["bm25"] = _bm25(self.index, question, min(pool, n))
        fused: dict[int, float] = {}
        for name, ranking in lists.items():
            weight = self.weights.get(name, 1.0)
            for r, i in enumerate(ranking, 1):
                fused[i] = fused.get(i, 0.0) + weight / (RRF_K + r)
        order = sorted(fused, key=lambda i: (-fused[i], i))
        rank_of = {name: {i: r for r, i in enumerate(ranking, 1)} for name, ranking in lists.items()}
        return [(i, fused[i], {name: rank_of[name].get(i) for name in lists}) for i in order]

    def _with_sentences(self, hit: Hit, q: np.ndarray, question: str) -> Hit:
        spans = T.sentence_spans(hit.text, hit.start)
        texts = [hit.text[s - hit.start : e - hit.start] for s, e in spans]
        vecs = self.embed(texts)
        sentences = tuple(
            Sentence(s, e, t, float(np.dot(v, q)), self.overlap(question, t))
            for (s, e), t, v in zip(spans, texts, vecs)
        )
        overlap = self.overlap(question, hit.title + "\n" + hit.text)
        return Hit(**{**hit.__dict__, "sentences": sentences, "overlap": overlap})


def _in_compound(stem: str, stems: set[str]) -> bool:
    """Whether a stem matches another form of its word in `stems`.

    Part of a compound ("troop" in "cybertroop"), the demonym of a place and back
    ("russia" and "russian", "ukrain" and "ukrainian"), or a name spelt another way
    ("tokayev" and "tokajev": one letter apart, not the first).
    """
    if len(stem) < 5:
        return False
    for t in stems:
        if len(t) == len(stem) >= 6 and t[0] == stem[0] and sum(a != b for a, b in zip(t, stem)) == 1:
            return True
        longer, shorter = (t, stem) if len(t) > len(stem) else (stem, t)
        if len(shorter) < 5:
            continue
        if longer.startswith(shorter) and longer[len(shorter) :] in DEMONYM:
            return True
        if len(t) >= len(stem) + 3 and t.endswith(stem):
            return True
    return False


def _bm25(index: Index, question: str, pool: int) -> list[int]:
    vocab = index.bm25.vocab_dict if index.bm25 is not None else {}
    tokens = [t for t in T.stems(question) if t in vocab]
    if not tokens:
        return []
    ids, scores = index.bm25.retrieve([tokens], k=pool, show_progress=False, n_threads=1)
    return [int(i) for i, s in zip(ids[0], scores[0]) if s > 0]


def _idf(index: Index) -> dict[str, float]:
    """Inverse document frequency of each stem, from the BM25 index's postings."""
    if index.bm25 is None:
        return {}
    df = np.diff(index.bm25.scores["indptr"])
    n = max(1, len(index.paragraphs))
    return {tok: float(np.log(1 + (n - df[i] + 0.5) / (df[i] + 0.5))) for tok, i in index.bm25.vocab_dict.items() if i < len(df)}
