"""Parse, check and repair the citations of a draft answer.

For every answer sentence the cited paragraph must support it: the best-matching sentence
of the paragraph is similar enough (cosine with the bundled embedder), the paragraph holds at
least half of the sentence's words and every number and name of it, and a sentence a model
wrote must say something the question did not (one that only asks or restates the question
asserts nothing, however close it is to the passage), and a sentence that is not quoted must keep the
meaning of what it matches (`checker`). A citation that fails is re-pointed to a retrieved paragraph
that passes; when none does, the sentence is marked unsupported. When the retrieved passage closest
to a sentence speaks of it and says otherwise, that passage decides: no less close one may support it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rag import text as T
from rag.answer import checker
from rag.answer.checker import JOINS, Embed
from rag.answer.consistency import facts_present
from rag.answer.retrieve import Hit, Sentence
from rag.config import get_settings

SUPPORT = 0.6  # cosine an answer sentence needs with a sentence of its paragraph
COVERAGE = 0.5  # share of an answer sentence's words its paragraph must hold
LONG = 15  # words from which a sentence is compared clause by clause too
CLAUSE = re.compile(r"\s*[,;:—–]\s+|\s+-\s+|\s*\(|\)\s*")
MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
# A question asking for something (who, what, by how much, ...), not for a yes or a no.
ASKS_FOR = re.compile(r"^\W*(\w+\s+)?(what|which|who|whom|whose|when|where|why|how)\b", re.I)


@dataclass(frozen=True)
class Citation:
    marker: int
    id: str
    source: str
    start: int  # span of the quote in the original document
    end: int
    quote: str
    supported: bool
    score: float
    page: int = 0  # the PDF page of the paragraph, from 1; 0 without pages
    date: str = ""  # the document's publication date (YYYY-MM-DD) when known


@dataclass(frozen=True)
class Claim:
    text: str  # the sentence, without markers
    markers: tuple[int, ...]
    supported: bool


@dataclass(frozen=True)
class Verified:
    answer: str  # claims with renumbered [n] markers
    citations: list[Citation]
    claims: list[Claim]
    notes: list[str]  # what verification removed, moved or could not support


def parse(draft: str) -> list[tuple[str, list[int]]]:
    """Sentences of a draft with the markers that follow them.

    >>> parse("Kazakhstan borders Russia [2]. It is large [1, 3] and old. Uncited.")
    [('Kazakhstan borders Russia.', [2]), ('It is large and old.', [1, 3]), ('Uncited.', [])]
    """
    clean, places, pos = "", [], 0
    for m in MARKER.finditer(draft):
        clean += draft[pos : m.start()]
        places.append((len(clean), [int(n) for n in re.findall(r"\d+", m.group())]))
        pos = m.end()
    clean += draft[pos:]
    spans = T.sentence_spans(clean)
    out: list[tuple[str, list[int]]] = [(clean[s:e], []) for s, e in spans]
    for at, numbers in places:
        i = sum(1 for s, _ in spans if s < at) - 1  # the sentence the marker stands in or after
        if 0 <= i < len(out):
            out[i][1].extend(numbers)
    return out


def verify(draft: str, hits: list[Hit], embed: Embed, question: str = "",
           mode: str = "") -> Verified:
    """Check every sentence of `draft` against the passages it cites (and, given `question`, that it answers);
    `mode` is how a claim's meaning is checked (`checker.MODES`), empty: RAG_VERIFY."""
    mode = mode or get_settings().verify
    mode = checker.known("rules" if mode == "model" else mode)  # the model's own reading is the pipeline's, on top
    notes: list[str] = []
    citations: list[Citation] = []
    claims: list[Claim] = []
    sentences = parse(draft)
    if not sentences:
        return Verified("", [], [], ["the answer was empty"])
    vectors = embed([s for s, _ in sentences])
    for (sentence, markers), vec in zip(sentences, vectors):
        valid = []
        for n in dict.fromkeys(markers):
            if 1 <= n <= len(hits):
                valid.append(n)
            else:
                notes.append(f"removed marker [{n}]: it names no retrieved passage")
        echo = restates(sentence, question)
        good, checks = _supporting(sentence, vec, valid, hits, embed, echo, notes, mode)
        use = good or valid
        markers_out = []
        for n in use:
            ok, best, score, _ = checks[n]
            if best is None:
                continue
            markers_out.append(_add(citations, hits[n - 1], best, ok, score))
        supported = bool(good)
        if not supported:
            notes.append(f"no retrieved passage supports {_short(sentence)!r}")
            if echo:
                notes.append(f"{_short(sentence)!r} asserts nothing: it restates the question")
        claims.append(Claim(sentence, tuple(markers_out), supported))
    answer = " ".join(with_markers(c.text, c.markers) for c in claims)
    return Verified(answer, citations, claims, notes)


Check = tuple[bool, Sentence | None, float, bool]  # supported, best-matching sentence, cosine, says otherwise


def _supporting(sentence: str, vec: np.ndarray, valid: list[int], hits: list[Hit], embed: Callable[[list[str]], np.ndarray],
                echo: bool, notes: list[str], mode: str = "rules") -> tuple[list[int], dict[int, Check]]:
    """The passages that support `sentence` (its own citations first, else the best retrieved one, else one for each
    statement of a sentence that joins two), and every passage's check."""
    checks = {n: _support(sentence, vec, hits[n - 1], embed, echo, mode) for n in range(1, len(hits) + 1)}
    parts = [p for p in JOINS.split(sentence) if len(T.words(p)) >= 4]
    closest = max(checks, key=lambda n: checks[n][2], default=None)
    if len(parts) < 2 and closest is not None and checks[closest][3]:
        notes.append(f"passage [{closest}], the closest to {_short(sentence)!r}, says otherwise")
        return [], checks
    good = [n for n in valid if checks[n][0]]
    if good:
        return good, checks
    better = max(checks, key=lambda n: (checks[n][0], checks[n][2]), default=None)
    if better is not None and checks[better][0]:
        notes.append(f"cited passage [{better}] for {_short(sentence)!r}" + (f" instead of {valid}" if valid else ""))
        return [better], checks
    if len(parts) < 2 or echo:
        return [], checks
    each = []
    for part, pvec in zip(parts, embed(parts)):
        found = {n: _support(part, pvec, hits[n - 1], embed, False, mode) for n in range(1, len(hits) + 1)}
        n = max(found, key=lambda n: (found[n][0], found[n][2]))
        if not found[n][0]:
            return [], checks
        each.append(n)
        checks[n] = found[n]
    notes.append(f"{_short(sentence)!r} joins statements of passages {sorted(set(each))}: each supported by its own")
    return list(dict.fromkeys(each)), checks


def supported_only(v: Verified) -> Verified:
    """`v` without its unsupported claims, its citations renumbered in order of use."""
    by_marker = {c.marker: c for c in v.citations}
    citations: list[Citation] = []
    renumbered: dict[int, int] = {}
    claims = []
    for claim in (c for c in v.claims if c.supported):
        for m in claim.markers:
            if m not in renumbered:
                renumbered[m] = len(citations) + 1
                citations.append(replace(by_marker[m], marker=renumbered[m]))
        claims.append(replace(claim, markers=tuple(renumbered[m] for m in claim.markers)))
    notes = [n for n in v.notes if not n.startswith("no retrieved passage supports")]
    notes += [f"dropped {_short(c.text)!r}: no retrieved passage supports it" for c in v.claims if not c.supported]
    return Verified(" ".join(with_markers(c.text, c.markers) for c in claims), citations, claims, notes)


def with_markers(sentence: str, markers: tuple[int, ...] | list[int]) -> str:
    """`sentence` with its markers before its final stop: "It rained [1]." """
    tags = "".join(f" [{m}]" for m in markers)
    if sentence[-1:] in ".!?" and not sentence.endswith("..."):
        return sentence[:-1] + tags + sentence[-1]
    return sentence + tags


def restates(sentence: str, question: str) -> bool:
    """Whether `sentence` adds no word to `question` and so answers nothing: it asks back, or the question
    asks for something (who, what, how much) that it does not name. Affirming a yes-no question adds none either,
    and answers it.

    >>> q = "How long did the ferry crossing take?"
    >>> restates("How long did the ferry crossing take?", q), restates("It was a long ferry crossing.", q)
    (True, True)
    >>> restates("The ferry crossing took an hour.", q), restates("The ferry sank.", "Did the ferry sink?")
    (False, False)
    """
    if not question or set(T.stems(sentence)) - set(T.stems(question)):
        return False
    return sentence.rstrip("\"'”’»)").endswith("?") or bool(ASKS_FOR.match(question))


def similar(sentence: str, vec: np.ndarray, hit: Hit, embed: Embed) -> tuple[bool, list[tuple[int, str]], np.ndarray]:
    """The similarity check alone: some piece of `hit` (`clauses` of its sentences) is close enough to `sentence`
    (cosine SUPPORT) and the paragraph holds enough of its words (COVERAGE); with the pieces, by sentence, and
    their cosines. No numbers, names or meaning are checked here."""
    pieces = [(i, piece) for i, s in enumerate(hit.sentences) for piece in clauses(s.text)]
    if not pieces:
        return False, [], np.zeros(0)
    sims = embed([piece for _, piece in pieces]) @ vec
    return float(sims.max()) >= SUPPORT and T.overlap(sentence, hit.paragraph.text, {}) >= COVERAGE, pieces, sims


def _support(sentence: str, vec: np.ndarray, hit: Hit, embed: Callable[[list[str]], np.ndarray],
             echo: bool = False, mode: str = "rules") -> Check:
    """Whether `hit` supports `sentence`, its best-matching sentence, their cosine, and whether `hit` speaks of what
    the sentence states (close enough, with its numbers and names) and says otherwise: only the meaning check
    fails. A sentence that only restates the question (`echo`) is supported only by a passage that says it word
    for word."""
    close, pieces, sims = similar(sentence, vec, hit, embed)
    if not pieces:
        return False, None, 0.0, False
    best = int(np.argmax(sims))
    i, score = pieces[best][0], float(sims[best])
    quoted = not echo or " ".join(sentence.split()).lower() in " ".join(hit.paragraph.text.split()).lower()
    if not close or not facts_present(sentence, hit.paragraph.text):
        return False, hit.sentences[i], score, False
    if quoted_verbatim(sentence, hit.paragraph.text):  # a quote says what its passage says
        return quoted, hit.sentences[i], score, False
    first = next(j for j, (k, _) in enumerate(pieces) if k == i)  # the whole sentence, its first piece
    texts = [piece for _, piece in pieces]
    agrees = checker.agrees(mode, sentence, texts, best, first, hit.sentences[i].text, hit.paragraph.text, sims, embed)
    return quoted and agrees, hit.sentences[i], score, not agrees


def quoted_verbatim(sentence: str, passage: str) -> bool:
    return " ".join(sentence.split()).lower().rstrip(".") in " ".join(passage.split()).lower()


def clauses(sentence: str) -> list[str]:
    """The sentence, and for a long one its clauses alone and two by two: a claim restating one part of a long
    sentence is compared with that part.

    >>> clauses("He came, saw the town, and left.")
    ['He came, saw the town, and left.']
    >>> clauses("On Tuesday, after a long meeting with the cabinet, the president called for peace and offered help.")[1:4]
    ['On Tuesday', 'after a long meeting with the cabinet', 'the president called for peace and offered help.']
    """
    parts = [p.strip() for p in CLAUSE.split(sentence) if p.strip()]
    if len(T.words(sentence)) < LONG or len(parts) < 2:
        return [sentence]
    return [sentence, *parts, *(f"{a}, {b}" for a, b in zip(parts, parts[1:]))]


def _add(citations: list[Citation], hit: Hit, sentence: Sentence, supported: bool, score: float) -> int:
    """The marker of this quote, reusing one already given to the same quote."""
    p = hit.paragraph
    for c in citations:
        if c.id == p.id and c.start == sentence.start:
            return c.marker
    marker = len(citations) + 1
    citations.append(Citation(marker, p.id, p.source, sentence.start, sentence.end, sentence.text, supported,
                              round(score, 4), p.page))
    return marker


def _short(s: str) -> str:
    return s if len(s) <= 60 else s[:57] + "..."


def disagreements(citations: list[Citation]) -> list[str]:
    """A note for each pair of cited documents of different dates whose quotes give different figures.

    >>> c = lambda m, d, q: Citation(m, f"{d}#p1", d, 0, 1, q, True, 1.0, 0, d)
    >>> disagreements([c(1, "2023-01-10", "The toll is 4 euros."), c(2, "2024-04-02", "The toll rose to 5 euros.")])
    ['the sources differ: [1] (2023-01-10) says 4, [2] (2024-04-02) says 5']
    """
    notes = []
    for i, a in enumerate(citations):
        for b in citations[i + 1 :]:
            na, nb = T.numbers(a.quote), T.numbers(b.quote)
            if a.date and b.date and a.date != b.date and na and nb and not na & nb:
                notes.append(f"the sources differ: [{a.marker}] ({a.date}) says {', '.join(sorted(na))}, "
                             f"[{b.marker}] ({b.date}) says {', '.join(sorted(nb))}")
    return notes
