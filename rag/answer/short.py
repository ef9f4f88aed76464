"""The short answer inside a quoted sentence: the words of it that a factoid question asks for.

A question that asks for a kind of thing (`answer_types`: a year, a date, a count, a person, a
place) or for "what / which" thing gets the candidate spans of that kind in its answer's first
sentence: numbers with their scale and unit, dates, runs of capitalised words. A candidate made
only of the question's own words is left out; of the rest, the one nearest to the words the
sentence shares with the question is the short answer. A "what / which" question takes only a name, and only one standing next to those words
(fitted on the training articles: numbers and farther names were mostly wrong there). Why, how and
summary questions get none.
Measured on SQuAD 2.0's test articles and on RealTime QA (`bench/short.py`, BENCHMARKS.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag import text as T
from rag.answer import answer_types
from rag.answer.verify import Citation

SCALE = r"(?:\s*(?:%|per ?cent\b)|\s+(?:million|billion|trillion|thousand|hundred)\b)?"
UNIT = (r"(?:\s+(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|km|kilomet(?:er|re)s?|miles?|met(?:er|re)s?"
        r"|feet|tons?|tonnes?|people|troops|soldiers|dollars|euros|rubles|roubles|tenge|times)\b)?")
NUMBER_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?)"
AMOUNT = re.compile(rf"[$€£]?\d[\d,.]*(?:\s*(?:-|–|to)\s*\d[\d,.]*)?{SCALE}{UNIT}|\b{NUMBER_WORD}\b{SCALE}{UNIT}", re.I)
MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
         r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
DATE = re.compile(rf"\b(?:\d{{1,2}}\s+{MONTH}(?:,?\s+\d{{4}})?|{MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
                  rf"|(?:1[0-9]|20)\d\d)\b")
YEAR = re.compile(r"\b(?:1[0-9]|20)\d\d\b")
LINK = r"(?:\s+(?:of|the|de|du|von|van|der|al|bin|and|for)\s+|\s+|-)"
NAME = re.compile(rf"\b[A-ZА-ЯЁ][\w'’.]*(?:{LINK}[A-ZА-ЯЁ][\w'’.]*)*")
# "What party ...", "Which city ...": a question for a thing; "What did ... say", "What is ..." ask for more than a name.
ASKS_THING = re.compile(r"^\W*(what|which)\s+(?!(is|was|are|were|did|does|do|has|have|had|can|could|will|would|should|may|might)\b)\w", re.I)
ASKS_SHARE = re.compile(r"\b(percent|percentage|per cent|proportion|share)\b", re.I)  # takes a figure with % or percent
NEAR = 20  # a "what / which" question's name must stand this close (characters) to the words it shares with the sentence
KINDS = {"year": (YEAR,), "date": (DATE,), "count": (AMOUNT,), "percent": (AMOUNT,), "person": (NAME,), "place": (NAME,)}


@dataclass(frozen=True)
class Short:
    text: str
    start: int  # span inside the sentence
    end: int


@dataclass(frozen=True)
class ShortAnswer:
    text: str
    marker: int  # the citation whose quote holds it
    id: str
    source: str
    start: int  # span in the original document
    end: int


def mark(question: str, citations: list[Citation]) -> ShortAnswer | None:
    """The short answer inside the answer's first supported quote, with its span in the document."""
    first = next((c for c in citations if c.supported), None)
    found = span(question, first.quote) if first else None
    if first is None or found is None:
        return None
    return ShortAnswer(found.text, first.marker, first.id, first.source, first.start + found.start, first.start + found.end)


def span(question: str, sentence: str, types: tuple[answer_types.AnswerType, ...] = answer_types.TABLE) -> Short | None:
    """The short answer to `question` inside `sentence`, or None when the question asks for no particular thing.

    >>> span("When did the bridge open?", "After years of work, the bridge opened on 12 May 2003 to traffic.")
    Short(text='12 May 2003', start=42, end=53)
    >>> span("Who opened the bridge?", "The bridge was opened by Mayor Anna Berg in May.").text
    'Mayor Anna Berg'
    >>> span("How many people live in Oslo?", "Oslo, the capital, has 700,000 people.").text
    '700,000 people'
    >>> span("What share of the vote did she win?", "She won 54% of the vote, up from 40 seats.").text
    '54%'
    >>> span("Why did the bridge close?", "It closed because of floods.") is None
    True
    """
    kind = answer_types.of(question, types)
    share = kind is None and bool(ASKS_SHARE.search(question))
    thing = kind is None and not share and bool(ASKS_THING.search(question))
    patterns = KINDS.get(kind.name) if kind else (answer_types.PERCENTAGE,) if share else ((NAME,) if thing else None)
    if not patterns:
        return None
    asked, named = set(T.stems(question)), set(T.stems(" ".join(w for w in T.WORD.findall(question)[1:] if w[:1].isupper())))
    shared = [(m.start(), m.end()) for m in T.WORD.finditer(sentence) if set(T.stems(m.group())) & asked]
    found = [c for p in patterns for c in _candidates(p, sentence) if not _asked(c.text, asked, named if p is NAME else set())]
    best = min(found, key=lambda c: (_distance(c, shared), c.start), default=None)
    return None if best is None or (thing and _distance(best, shared) > NEAR) else best


def _asked(candidate: str, asked: set[str], named: set[str]) -> bool:
    """Whether the candidate says what the question says: only its words, or other forms of them (France, French),
    or, for a name, a name of the question ("President Kassym-Jomart Tokayev" for a question about Tokayev)."""
    stems = T.stems(candidate)
    return all(s in asked or T.variant(s, asked) for s in stems) or any(s in named or T.variant(s, named) for s in stems)


def _candidates(pattern: re.Pattern[str], sentence: str) -> list[Short]:
    """The pattern's matches in `sentence`. A name's leading common words ("The", "In") are trimmed off, and a
    sentence's capitalised first word is a name only when a second follows it ("However", "Many" are not)."""
    out = []
    for m in pattern.finditer(sentence):
        start, text = m.start(), m.group().rstrip(".,")
        while pattern is NAME and (lead := re.match(r"\S+\s+", text)) and lead.group().strip().lower() in T.STOPWORDS:
            start, text = start + lead.end(), text[lead.end() :]
        if pattern is NAME and start == len(sentence) - len(sentence.lstrip(" \"'“‘(")) and " " not in text and "-" not in text:
            continue
        if text and not (pattern is NAME and (text.lower() in T.STOPWORDS or answer_types.MONTHS.fullmatch(text))):
            out.append(Short(text, start, start + len(text)))
    return out


def _distance(c: Short, shared: list[tuple[int, int]]) -> int:
    """Characters between the candidate and the nearest word the sentence shares with the question; none when it holds
    one ("300 troops" for "how many troops")."""
    gaps = [0 if c.start <= a and b <= c.end else c.start - b if b <= c.start else a - c.end for a, b in shared]
    return min((max(0, g) for g in gaps), default=len(c.text) + 10**6)
