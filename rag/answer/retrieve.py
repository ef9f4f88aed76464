"""Question -> ranked paragraphs: dense and BM25 fused by reciprocal rank, near-duplicates collapsed.

Nothing here is about sentences beyond splitting a hit into them; scoring them is answering's job.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from functools import cached_property

import numpy as np

from rag import text as T
from rag.errors import InputError
from rag.index import Index
from rag.index.store import rrf
from rag.ingest.corpus import Paragraph
from rag.text import names

POOL = 50  # candidates taken from each retriever before fusion
MODES = {"hybrid": ("dense", "bm25"), "dense": ("dense",), "bm25": ("bm25",)}  # mode -> the rankings it fuses

# A paragraph that opens like this carries on the one before it: its speaker, its subject.
CARRIES_ON = re.compile(r"^\W*(in (his|her|their) (opinion|view|words)|according to (him|her|them)|(he|she|they|this|these"
                        r"|that|such|it) )", re.I)

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Sentence:
    start: int  # span in the original document
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    paragraph: Paragraph
    score: float  # fused score
    dense: float = 0.0  # cosine of paragraph and question
    ranks: dict[str, int | None] = field(default_factory=dict)  # 1-based rank per retriever

    @cached_property
    def sentences(self) -> tuple[Sentence, ...]:
        p = self.paragraph
        return tuple(Sentence(s, e, p.text[s - p.start : e - p.start]) for s, e in T.sentence_spans(p.text, p.start))

    def public(self) -> dict[str, object]:
        p = self.paragraph
        return {"id": p.id, "source": p.source, "start": p.start, "end": p.end, "text": p.text, "score": self.score,
                "page": p.page}


@dataclass(frozen=True)
class Filter:
    """Which documents a search may return: published from `date_from` to `date_to` (YYYY-MM-DD, both kept)
    and named by one of `sources` (names or fnmatch patterns). A document without a date fails a date filter.

    >>> Filter.of("2024-01-01", "", ["bbc-*"]).keeps("bbc-7.txt", {"date": "2024-03-02"})
    True
    """

    date_from: str = ""
    date_to: str = ""
    sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, date_from: str | None = None, date_to: str | None = None, sources: Sequence[str] | None = None) -> Filter:
        """A filter from the edges' values, checked: a date that is not YYYY-MM-DD is an InputError."""
        for name, value in (("date_from", date_from), ("date_to", date_to)):
            if value and not (re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and _is_date(value)):
                raise InputError(f"{name} must be a date as YYYY-MM-DD, not {value!r}")
        if date_from and date_to and date_from > date_to:
            raise InputError(f"date_from {date_from} is after date_to {date_to}")
        return cls(date_from or "", date_to or "", tuple(s for s in sources or () if s))

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.sources)

    def __str__(self) -> str:
        said = [f"from {self.date_from}" if self.date_from else "", f"to {self.date_to}" if self.date_to else "",
                f"sources {', '.join(self.sources)}" if self.sources else ""]
        return " ".join(w for w in said if w)

    def keeps(self, name: str, document: dict[str, str]) -> bool:
        if self.sources and not any(fnmatchcase(name, pattern) for pattern in self.sources):
            return False
        day = str(document.get("date", ""))[:10]
        if (self.date_from or self.date_to) and not _is_date(day):
            return False
        return (not self.date_from or day >= self.date_from) and (not self.date_to or day <= self.date_to)

    def rows(self, index: Index, by_source: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Rows of `index.paragraphs` in the documents kept, ascending; an InputError when no document is kept.

        `by_source` (`source_rows(index)`, which a retriever keeps) saves a pass over the paragraphs."""
        by_source = source_rows(index) if by_source is None else by_source
        kept = [by_source[name] for name, d in index.documents.items() if name in by_source and self.keeps(name, d)]
        rows = np.sort(np.concatenate(kept)) if kept else np.zeros(0, dtype=np.int64)
        if not len(rows):
            raise InputError(f"no document matches the filters: {self} (of {len(index.documents)} documents)")
        return rows


def source_rows(index: Index) -> dict[str, np.ndarray]:
    """The rows of each document's paragraphs."""
    rows: dict[str, list[int]] = {}
    for i, p in enumerate(index.paragraphs):
        rows.setdefault(p.source, []).append(i)
    return {name: np.array(r, dtype=np.int64) for name, r in rows.items()}


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


class Retriever:
    """Holds the index and an embedding function; `search` is safe to call from several threads."""

    def __init__(self, index: Index, embed: Embed, mode: str = "hybrid", weights: dict[str, float] | None = None) -> None:
        if mode not in MODES:
            raise InputError(f"unknown retrieval mode {mode!r}: choose one of {', '.join(MODES)}")
        self.index, self.embed, self.mode = index, embed, mode
        self.weights = weights or {}  # per retriever ("dense", "bm25") in the rank fusion; 1.0 each by default
        self._spellings: tuple[Index, dict[str, str]] | None = None
        self._rows: tuple[Index, dict[str, np.ndarray]] | None = None

    def respell(self, question: str) -> str:
        """`question` with its names spelt as the corpus spells them (Tokaev -> Tokayev): see `text.names`."""
        held = self._spellings
        if held is None or held[0] is not self.index:
            held = self._spellings = (self.index, names.spellings(p.text for p in self.index.paragraphs))
        return names.to_corpus(question, held[1])

    def kept(self, filters: Filter | None) -> np.ndarray | None:
        """The rows of the documents `filters` keeps (None: no filter); an InputError when it keeps none."""
        return filters.rows(self.index, self.source_rows()) if filters else None

    def search(self, question: str, k: int = 5, parts: Sequence[str] = (), filters: Filter | None = None) -> list[Hit]:
        """The `k` best passages for `question`, best first, from the documents `filters` keeps.

        A question in two `parts` gets the best passages of the whole and of each part, in turns.
        """
        rows = self.kept(filters)
        rankings = [self._search(q, k, rows) for q in [question, *(parts if len(parts) > 1 else ())]]
        merged: dict[str, Hit] = {}
        for rank in range(k):
            for ranking in rankings:
                if rank < len(ranking) and len(merged) < k:
                    merged.setdefault(ranking[rank].paragraph.id, ranking[rank])
        return list(merged.values())

    def source_rows(self) -> dict[str, np.ndarray]:
        """`source_rows` of the index, kept until the index is swapped."""
        held = self._rows
        if held is None or held[0] is not self.index:
            held = self._rows = (self.index, source_rows(self.index))
        return held[1]

    def carried_on(self, hits: list[Hit]) -> list[Hit]:
        """`hits` and, after them, the paragraph after each hit when it carries that one on ("In his opinion, ...")
        and was not retrieved: it names nobody, so no search finds it for a question about its speaker."""
        by_id, have = self.index.by_id, {h.paragraph.id for h in hits}
        out = list(hits)
        for h in hits:
            after = by_id.get(neighbour(h.paragraph.id))
            if after is not None and after.id not in have and CARRIES_ON.search(after.text):
                out.append(Hit(after, 0.0))
                have.add(after.id)
        return out

    def rank(self, question: str, pool: int = POOL) -> list[tuple[int, float]]:
        """(paragraph number, fused score) of up to `pool` paragraphs from each retriever, best first.

        No near-duplicate collapse: the raw ranking, for measuring retrieval.
        """
        q = self.embed([question])[0]
        return [(i, score) for i, score, _ in self._fuse(q, question, pool)]

    def _search(self, question: str, k: int, rows: np.ndarray | None = None) -> list[Hit]:
        q = self.embed([question])[0]
        hits: list[Hit] = []
        seen: list[set[tuple[str, ...]]] = []
        for i, score, ranks in self._fuse(q, question, max(POOL, 4 * k), rows):
            p = self.index.paragraphs[i]
            sh = T.shingles(p.text)
            if any(T.containment(sh, s) >= 0.8 for s in seen):
                continue
            seen.append(sh)
            hits.append(Hit(p, score, float(np.dot(self.index.vectors[i], q)), ranks))
            if len(hits) == k:
                break
        return hits

    def _fuse(self, q: np.ndarray, question: str, pool: int,
              rows: np.ndarray | None = None) -> list[tuple[int, float, dict[str, int | None]]]:
        """(row, fused score, rank per retriever) of the store's rankings (among `rows` when given), best first."""
        st = self.index.store
        if not self.index.paragraphs:
            return []
        if st.server_fusion and self.mode == "hybrid" and not self.weights:  # the store fuses, as it would at scale
            return [(i, score, {}) for i, score in st.fused(q, question, pool, rows)]
        lists: dict[str, list[int]] = {}
        if "dense" in MODES[self.mode]:
            lists["dense"] = st.dense(q, pool, rows)
        if "bm25" in MODES[self.mode]:
            lists["bm25"] = st.lexical(question, pool, rows)
        rank_of = {name: {i: r for r, i in enumerate(ranking, 1)} for name, ranking in lists.items()}
        return [(i, score, {name: rank_of[name].get(i) for name in lists}) for i, score in rrf(lists, self.weights)]


def neighbour(paragraph_id: str, step: int = 1) -> str:
    """The id of the paragraph `step` after this one in its document (-1: before it); "" for a title or author line.

    >>> neighbour("a.txt#p4"), neighbour("a.txt#p4", -1), neighbour("a.txt#title")
    ('a.txt#p5', 'a.txt#p3', '')
    """
    name, _, number = paragraph_id.rpartition("#p")
    return f"{name}#p{int(number) + step}" if number.isdigit() else ""


def idf(index: Index) -> dict[str, float]:
    """Inverse document frequency of each stem: from the build's BM25 postings, or counted over the paragraphs
    when the store keeps its own lexical index (Milvus)."""
    if index.bm25 is None:
        return counted_idf([p.text for p in index.paragraphs])
    n = max(1, len(index.paragraphs))
    df = index.bm25.df
    return {tok: float(np.log(1 + (n - df[i] + 0.5) / (df[i] + 0.5))) for tok, i in index.bm25.vocab.items() if i < len(df)}


def counted_idf(texts: Sequence[str]) -> dict[str, float]:
    """Inverse document frequency of each stem, counted over `texts` (BM25's formula)."""
    n = max(1, len(texts))
    counts = Counter(tok for t in texts for tok in set(T.stems(t)))
    return {tok: float(np.log(1 + (n - c + 0.5) / (c + 0.5))) for tok, c in counts.items()}
