"""The answer-type table, on neutral sentences written for these tests."""

from __future__ import annotations

import pytest

from rag.answer import answer_types as A


@pytest.mark.parametrize("question,name", [
    ("What percentage of voters turned out?", None),
    ("In which year did the mill close?", "year"),
    ("How many ferries cross the lake?", "count"),
    ("When did the mill close?", "date"),
    ("Who founded the bakery?", "person"),
    ("Which official opened the bridge?", "person"),
    ("Which city hosts the fair?", None),
    ("Why did the mill close?", "reason"),
    ("Who wrote the article about the mill?", "author"),
    ("What is the title of the article on the fair?", "title"),
    ("Did the mill close?", None),
    ("Who wrote Hamlet?", "person"),  # a work, not the article itself: a name, not the byline
    ("What title did the baron hold?", None),
])
def test_each_question_finds_its_type(question: str, name: str | None) -> None:
    found = A.of(question)
    assert (found.name if found else None) == name


@pytest.mark.parametrize("question,sentence,expected", [
    ("How many ferries cross the lake?", "Four ferries cross it daily, said 12 sailors.", A.BONUS),
    ("How many ferries cross the lake?", "Dozens of ferries cross it.", A.VAGUE),
    ("How many ferries cross the lake?", "About 40% of ferries are old.", A.PENALTY),  # a share is no count
    ("In which year did the mill close?", "The mill closed in 1987.", A.BONUS),
    ("When did the mill close?", "It closed in March.", A.BONUS),
    ("When did the mill close?", "It closed after the strike.", A.PENALTY),
    ("Why did the mill close?", "It closed because orders fell.", A.BONUS),
    ("Did the mill close?", "The mill did not close.", 0.0),
    ("Who founded the bakery?", "The bakery was founded by Ida Lunde.", A.BONUS),
    ("Who founded the bakery?", "The bakery was founded long ago.", A.PENALTY),  # no name it did not already hold
])
def test_fit_rewards_the_evidence_asked_for(question: str, sentence: str, expected: float) -> None:
    assert A.fit(A.of(question), question, sentence) == expected


def test_metadata_questions_are_answered_from_metadata_only() -> None:
    author, count = A.of("Who wrote the article on the fair?"), A.of("How many came to the fair?")
    assert A.answers_from(author, "author") and not A.answers_from(author, "text")
    assert A.answers_from(count, "text") and not A.answers_from(count, "author")
    assert A.answers_from(None, "text") and not A.answers_from(None, "title")


def test_every_row_is_named_once() -> None:
    assert len(A.BY_NAME) == len(A.TABLE)
