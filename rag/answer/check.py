"""`rag check`: any text checked against the corpus, sentence by sentence.

Each sentence of the text is retrieved for as a question would be, then verified against the
passages found by the same check that verifies an answer's sentences (`verify.verify`): a
sentence is supported when a retrieved passage supports it, and it then cites that passage.

    >>> [text[s:e] for text in ["It rained. It stopped.\\n\\nA new line"] for s, e in spans(text)]
    ['It rained.', 'It stopped.', 'A new line']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from rag import text as T
from rag.answer import verify as V
from rag.errors import InputError

if TYPE_CHECKING:
    from rag.answer.pipeline import Pipeline
    from rag.answer.retrieve import Filter

MAX_SENTENCES = 500


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # the sentence's span in the text given
    end: int
    supported: bool
    citations: list[V.Citation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Checked:
    text: str
    sentences: list[Sentence]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def spans(text: str) -> list[tuple[int, int]]:
    """The sentences of `text` as spans; a line break ends a sentence as a full stop does."""
    return T.sentence_spans(text)


def check(pipe: Pipeline, text: str, k: int | None = None, filters: Filter | None = None) -> Checked:
    """Every sentence of `text` with its verdict and the passages (of the documents `filters` keeps) that support it."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("the text is empty: give something to check")
    limit = pipe.settings.max_check_chars
    if len(text) > limit:
        raise InputError(f"the text is {len(text)} characters long; the limit is {limit}")
    found = spans(text)
    if len(found) > MAX_SENTENCES:
        raise InputError(f"the text has {len(found)} sentences; the limit is {MAX_SENTENCES}")
    k = pipe.settings.k if k is None else k
    pipe.retriever.kept(filters)  # no document kept is said once, before any sentence is searched
    return Checked(text, [_sentence(pipe, text, s, e, k, filters) for s, e in found])


def _sentence(pipe: Pipeline, text: str, start: int, end: int, k: int, filters: Filter | None = None) -> Sentence:
    """One sentence, retrieved for with its names spelt the corpus's way, and verified against what was found."""
    claim = " ".join(text[start:end].split())
    query = pipe.retriever.respell(claim)
    hits = pipe.retrieve(query, [query], k, filters)
    verified = pipe.checked(query, hits)  # the answer path's verification, the model's reading included
    supported = bool(verified.claims) and all(c.supported for c in verified.claims)
    citations = [pipe.dated(c) for c in verified.citations if c.supported] if supported else []
    notes = [n for n in verified.notes if not n.startswith("cited passage")]
    return Sentence(text[start:end], start, end, supported, citations, notes)
