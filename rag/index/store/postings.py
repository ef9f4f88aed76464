"""BM25 at query time from a build's bm25s files, with numpy alone: bm25s and the scipy it imports stay off the
path of `ask`, `search`, `chat` and `serve` (they cost a cold start 0.4 s), and are needed only to build.

bm25s keeps every (word, paragraph) score precomputed, column by column (one column a word): `data` holds the
scores, `indices` the paragraph rows, and `indptr[t]:indptr[t + 1]` word t's slice. A question's score for a
paragraph is the sum of its words' columns, taken in the question's order in the scores' own dtype, so that
scores and top-k ties come out as bm25s's own, to the bit (a test holds the two together).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

METHODS = ("lucene", "robertson", "atire")  # the variants with no score for a missing word (BM25L and BM25+ have one)


class Postings:
    def __init__(self, vocab: dict[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, rows: int) -> None:
        self.vocab, self.data, self.indices, self.indptr, self.rows = vocab, data, indices, indptr, rows

    @classmethod
    def read(cls, folder: Path) -> Postings:
        """A saved bm25s index (`BM25.save`); ValueError for a variant it cannot score, OSError or KeyError for a
        file or a field that is missing."""
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method", "lucene") not in METHODS:
            raise ValueError(f"BM25 variant {params.get('method')!r} is not read at query time")
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        data, indices, indptr = (np.load(folder / f"{name}.csc.index.npy", mmap_mode="r") for name in ("data", "indices", "indptr"))
        return cls(vocab, data, indices, indptr, int(params["num_docs"]))

    @classmethod
    def of(cls, bm25: Any) -> Postings:
        """The postings of a bm25s index built in memory."""
        s = bm25.scores
        return cls(bm25.vocab_dict, s["data"], s["indices"], s["indptr"], int(s["num_docs"]))

    @property
    def df(self) -> np.ndarray:
        """How many paragraphs hold each word, by its id."""
        return np.diff(self.indptr)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """Each paragraph's BM25 score for the question's words (those outside the vocabulary add nothing)."""
        out = np.zeros(self.rows, dtype=self.data.dtype)  # float32, as bm25s builds and sums them
        columns = len(self.indptr) - 1  # bm25s's empty word has an id but no column
        for t in (self.vocab[w] for w in tokens if w in self.vocab and self.vocab[w] < columns):
            lo, hi = int(self.indptr[t]), int(self.indptr[t + 1])
            out[self.indices[lo:hi]] += self.data[lo:hi]  # one column holds a paragraph once, so no index repeats
        return out

    def top(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows and their scores, best first; ties fall as bm25s's numpy selection lets them."""
        scores = self.scores(tokens)
        k = min(k, self.rows)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), scores[:0]
        picked = np.argpartition(scores, -k)[-k:]
        order = np.flip(np.argsort(scores[picked]))
        return picked[order], scores[picked][order]
