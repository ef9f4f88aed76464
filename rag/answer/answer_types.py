"""What a question asks for, and whether a sentence holds it: one table, read top to bottom.

Each row is an answer type: the pattern of a question that asks for it, the test a sentence
passes when it holds that kind of thing, and the kinds of paragraph that may answer it
(article text, or a document's title or author line). The first row whose pattern matches the
question decides. `fit` turns the test into a score adjustment: a bonus when the sentence holds
the thing asked for, a small penalty when only vaguely ("thousands" for "how many"), a large
one when it does not, nothing when the question asks for no particular kind.

Every row and alternative was measured with and without on SQuAD 2.0 (`bench/rules.py`,
BENCHMARKS.md). A row stays when removing it costs answers or refusals there; rows for a
percentage and a place, and the alternatives once fitted to the seed eval, helped on neither
and were removed. The person row moves nothing beyond noise on SQuAD 2.0 or RealTime QA, but on
RGB's news questions it finds the name asked for six times and loses it never, so it stays.
The author and title rows answer questions about the article itself, which no public set asks;
they never fire on SQuAD.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag import text as T

# Set with the first types, on the seed eval; swept on SQuAD 2.0 and checked on RGB later, and kept (BENCHMARKS.md).
BONUS, VAGUE, PENALTY = 0.05, -0.05, -0.35

PERCENTAGE = re.compile(r"[\d.,]+\s*(%|per ?cent\b)", re.I)
NUMBER_WORDS = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?|billions?|half)\b", re.I)
MONTHS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday)\b",
    re.I,
)
ARTICLE = r"(the|this|that|an|a) (article|story|piece|report|page)\b"  # the document itself, not a title in it
PLACE_WORDS = re.compile(r"\b(north|south|east|west|centr)\w*|\b(regions?|provinces?|cities|city|town|capital|border)\b", re.I)
CAUSE_WORDS = re.compile(r"\b(because|due to|owing to|as a result|in order to|so that|since|therefore|thus|reasons?|caus\w*|led to|leads? to)\b", re.I)


@dataclass(frozen=True)
class AnswerType:
    name: str
    asks: re.Pattern[str]  # a question matching this asks for this type
    holds: Callable[[str, str], bool | None]  # (question, sentence) -> holds it, only vaguely (None), or not
    kinds: tuple[str, ...] = ("text",)  # paragraph kinds whose sentences may answer it


def _anything(question: str, sentence: str) -> bool | None:
    return True


def _year(question: str, sentence: str) -> bool | None:
    return bool(re.search(r"\b(1[0-9]|20)\d\d\b", sentence))


def _count(question: str, sentence: str) -> bool | None:
    """A number that is not a percentage; a number word only vaguely."""
    rest = PERCENTAGE.sub(" ", sentence)
    return True if re.search(r"\d", rest) else (None if NUMBER_WORDS.search(rest) else False)


def _counted(question: str, sentence: str) -> bool | None:
    """A number, next to the thing counted: "how many troops" wants "troops" in the sentence too.

    >>> _counted("How many troops came?", "About 900 troops came."), _counted("How many troops came?", "900 people came.")
    (True, False)
    """
    m = re.search(r"\bhow (many|much)\s+(\w+)", question, re.I)
    noun = T.stems(m.group(2)) if m else []
    if noun and not (set(noun) <= set(T.stems(sentence)) or T.variant(noun[0], set(T.stems(sentence)))):
        return False
    return _count(question, sentence)


def _date(question: str, sentence: str) -> bool | None:
    return bool(re.search(r"\d", sentence) or MONTHS.search(sentence))


def _percent(question: str, sentence: str) -> bool | None:
    return bool(re.search(r"%|\bper ?cent\b|\b(half|third|quarter)\b", sentence, re.I))



def _new_name(question: str, sentence: str) -> bool:
    """A capitalised word, past the sentence's first, that the question does not already hold."""
    asked = {w.lower() for w in T.WORD.findall(question)}
    return any(w[:1].isupper() and w.lower() not in asked for w in T.WORD.findall(sentence)[1:])



def _place(question: str, sentence: str) -> bool | None:
    return _new_name(question, sentence) or bool(PLACE_WORDS.search(sentence))



def _cause(question: str, sentence: str) -> bool | None:
    return bool(CAUSE_WORDS.search(sentence))


TABLE: tuple[AnswerType, ...] = (
    AnswerType("author", re.compile(rf"\bwho (wrote|authored) {ARTICLE}|\b(author|byline) of {ARTICLE}", re.I), _anything, ("author",)),
    AnswerType("title", re.compile(rf"\b(title|headline) of {ARTICLE}", re.I), _anything, ("title",)),
    AnswerType("year", re.compile(r"\b(what|which|in what|in which) years?\b", re.I), _year),
    AnswerType("count", re.compile(r"\bhow (many|much|long|far|old|large|big)\b|\bwhat (number|age|size)\b", re.I), _count),
    AnswerType("date", re.compile(r"^\W*when\b|\b(what|which) (date|day|month)\b", re.I), _date),
    AnswerType("person", re.compile(r"^\W*(who|whom)\b|\bwhich (person|leader|official|politician)\b", re.I), _new_name),
    AnswerType("reason", re.compile(r"^\W*why\b|\bwhat (is|was|are|were) the (reasons?|causes?)\b", re.I), _cause),
)
BY_NAME = {t.name: t for t in TABLE}

# The rows as they stood before the public measurement, alternatives written from seed-eval
# failures included ("population", "exchange rate", "years in", "rating", "forum", ...). They are
# the default only until the measured table reaches the eval gate; see BENCHMARKS.md. Their person
# row lost its fitted alternatives ("which expert", "activist", "minister"): without them no seed
# answer changes. The reason row, added once, is out again: most stated reasons carry no causal
# word, so on 55 written why questions over SQuAD it refused half and chose "for a number of
# reasons" over the reason itself; without it SQuAD's test sample is level or better.
SEED_FITTED: tuple[AnswerType, ...] = (
    *TABLE[:2],
    AnswerType("percent", re.compile(r"\b(share|percentage|percent|proportion|rating)\b", re.I), _percent),
    AnswerType("year", re.compile(r"\b(what|which|in what|in which) years?\b|\byears in\b", re.I), _year),
    AnswerType("count", re.compile(
        r"\bhow (many|much|long|far|old|large|big)\b|\bwhat (number|age|size)\b|\b(length|km|kilometers|miles|population)\b|"
        r"\b(exchange|interest|inflation|unemployment) rate\b", re.I), _count),
    AnswerType("date", re.compile(r"^\W*when\b|\bwhat (date|day|month|time)\b|\b(which|what) (day|date|month)\b", re.I), _date),
    BY_NAME["person"],
    AnswerType("place", re.compile(
        r"^\W*where\b|\b(which|what) (town|city|country|countries|region|province|place|forum|venue|newspaper|channel)\b",
        re.I), _place),
)


def of(question: str, table: tuple[AnswerType, ...] = TABLE) -> AnswerType | None:
    """The type `question` asks for, or None.

    >>> of("How many bridges cross the river?").name, of("Why did the bridge close?").name
    ('count', 'reason')
    >>> of("Describe the bridge.") is None
    True
    """
    return next((t for t in table if t.asks.search(question)), None)


def fit(kind: AnswerType | None, question: str, sentence: str) -> float:
    """Score adjustment for whether `sentence` holds what `question` asks for.

    >>> q = "How many bridges cross the river?"
    >>> fit(of(q), q, "Dozens of bridges cross it."), fit(of(q), q, "It has 12 bridges."), fit(of(q), q, "It is wide.")
    (-0.05, 0.05, -0.35)
    """
    if kind is None:
        return 0.0
    found = kind.holds(question, sentence)
    return BONUS if found else VAGUE if found is None else PENALTY


def answers_from(kind: AnswerType | None, paragraph_kind: str) -> bool:
    """Whether a paragraph of `paragraph_kind` ("text", "title", "author") may answer a question of `kind`."""
    return paragraph_kind in (kind.kinds if kind else ("text",))
