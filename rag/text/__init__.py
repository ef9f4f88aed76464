"""Small text helpers shared by cleaning, retrieval, answering and verification: pure functions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

TOKENS = 2  # bump when `words` changes: lexical indexes built from other tokens are stale (2: accents folded)
WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*", re.UNICODE)
NUMBER = re.compile(r"\d[\d,.]*%?")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don now said says according say tell told""".split()
)

# A period after one of these does not end a sentence.
ABBREVIATIONS = frozenset("mr mrs ms dr st jr sr prof gen col lt sgt vs etc inc ltd co corp no fig u.s u.k".split())

# Where a question asking two things splits: "How long is X, and where is Y?"
_SECOND_PART = re.compile(r",?\s+and\s+(?=(what|which|who|whom|how|where|when|why|did|does|do|is|are|was|were)\b)", re.I)
_DEMONYM = {"n", "an", "ian", "ns", "ans", "ians"}  # stem endings that turn a place into its people

# A sentence ends at . ! ? (plus closing quotes or brackets) followed by space and a capital,
# a digit, an opening quote or a list bullet; or at a line break. A bullet belongs to no sentence.
BULLETS = "•▪◦‣"
_LEAD = re.compile(rf"^[\s{BULLETS}]+")  # what a sentence span does not start with: any whitespace, bullets
_BOUNDARY = re.compile(rf"""(?<=[.!?])(["'”’»)\]]*)\s+(?=[{BULLETS}]|["'“‘«(\[]?[A-Z0-9А-ЯЁ])|\s*\n\s*""")


def fold(text: str) -> str:
    """`text` without its accents, so that a name typed plainly matches the name as printed.

    >>> fold("Tugh Temür, Fécamp, Łódź")
    'Tugh Temur, Fecamp, Łodz'
    """
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lower-cased word tokens, accents folded: `words("U.S. troops, 6,846 km")` -> ['u.s', 'troops', '6', '846', 'km']."""
    out = [w.lower().rstrip(".").replace("’", "'") for w in WORD.findall(fold(text))]
    return [w[:-2] if w.endswith("'s") else w for w in out]


def acronyms(text: str) -> set[str]:
    """Initials of runs of capitalised words: "Collective Security Treaty Organization" -> {'csto', ...}."""
    out = set()
    for run in re.findall(r"(?:[A-Z][\w’'-]*\s+){1,6}[A-Z][\w’'-]*", text):
        initials = "".join(w[0] for w in run.split()).lower()
        out |= {initials[i:j] for i in range(len(initials)) for j in range(i + 2, len(initials) + 1)}
    return out


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no stop words."""
    return [w for w in words(text) if w not in STOPWORDS]


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> list[str]:
    """Stemmed content words, the tokens BM25 and lexical overlap use."""
    return list(_stemmer().stemWords(content_words(text)))


def numbers(text: str) -> set[str]:
    """Numbers written in the text, normalised: `numbers("20% of 6,846")` -> {'20', '6846'}."""
    return {n.rstrip(".,%").replace(",", "") for n in NUMBER.findall(text)} - {""}


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Spans `[start, end)` of the sentences of `text`, shifted by `offset`.

    >>> sentence_spans("It rained. Mr. Smith left.")
    [(0, 10), (11, 26)]
    >>> [("• It rained. • It stopped."[s:e]) for s, e in sentence_spans("• It rained. • It stopped.")]
    ['It rained.', 'It stopped.']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        stop = m.start()
        before = text[start:stop].rsplit(None, 1)[-1].lower().rstrip(".") if text[start:stop].strip() else ""
        if "\n" not in m.group() and (before in ABBREVIATIONS or (len(before) == 1 and before.isalpha())):
            continue
        spans.extend(_trimmed(text, start, m.end(1) if m.group(1) else stop))  # a closing quote stays with its sentence
        start = m.end()
    spans.extend(_trimmed(text, start, len(text)))
    return [(s + offset, e + offset) for s, e in spans]


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """`[start, end)` without the whitespace and bullets it starts with and the whitespace it ends with; none when empty."""
    body = _LEAD.sub("", text[start:end], count=1)
    lead = end - len(body)
    body = body.rstrip()
    return [(lead, lead + len(body))] if body else []


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """Word n-grams, for near-duplicate detection; short texts give one shingle of all their words."""
    toks = words(text)
    if len(toks) < n:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def containment(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    """Share of `a`'s shingles that are also in `b`."""
    return len(a & b) / len(a) if a else 0.0


def split_question(question: str) -> list[str]:
    """A question that asks two things, as two questions; any other question, as itself.

    >>> split_question("How tall is the tower, and who built it?")
    ['How tall is the tower', 'who built it?']
    >>> split_question("Tom and Jerry: who won?")
    ['Tom and Jerry: who won?']
    """
    m = _SECOND_PART.search(question)
    if not m or len(content_words(question[: m.start()])) < 2:
        return [question]
    return [question[: m.start()], question[m.end() :]]


def variant(stem: str, stems: set[str] | frozenset[str]) -> bool:
    """Whether another form of the word `stem` stands in `stems`.

    A compound holding it, a place and its people, or a name spelt one letter differently:

    >>> variant("troop", {"cybertroop"}), variant("norway", {"norwegian"}), variant("norway", {"norwayan"})
    (True, False, True)
    >>> variant("tchaikovsky", {"tchaikovski"}), variant("cat", {"bobcat"})
    (True, False)
    """
    if len(stem) < 5:
        return False
    for t in stems:
        if len(t) == len(stem) >= 6 and t[0] == stem[0] and sum(a != b for a, b in zip(t, stem)) == 1:
            return True
        longer, shorter = (t, stem) if len(t) > len(stem) else (stem, t)
        if len(shorter) >= 5 and longer.startswith(shorter) and longer[len(shorter) :] in _DEMONYM:
            return True
        if len(t) >= len(stem) + 3 and t.endswith(stem):
            return True
    return False


def overlap(question: str, text: str, idf: Mapping[str, float], variants: bool = True) -> float:
    """idf-weighted share of the question's word stems that `text` contains (unknown stems weigh the most).

    >>> overlap("red apples", "apples are sweet", {"red": 2.0, "appl": 1.0})
    0.3333333333333333
    """
    qs = set(stems(question))
    if not qs:
        return 0.0
    ts = set(stems(text))
    top = max(idf.values(), default=1.0)
    total = sum(idf.get(s, top) for s in qs)
    return sum(idf.get(s, top) for s in qs if s in ts or (variants and variant(s, ts))) / total
