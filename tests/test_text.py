"""Word, stem, sentence and question helpers, on sentences written for these tests."""

from __future__ import annotations

import pytest

from rag import text as T


def test_words_keep_abbreviations_numbers_and_possessives() -> None:
    assert T.words("The U.S. mayor's 3,500 voters") == ["the", "u.s", "mayor", "3", "500", "voters"]


def test_words_fold_accents_so_plain_spellings_match() -> None:
    assert T.words("Zoë's café in Besançon") == ["zoe", "cafe", "in", "besancon"]
    assert T.overlap("Zoe cafe", "The café of Zoë", {}) == 1.0
    assert T.words("Łódź") == ["łodz"]  # a letter of its own stays


def test_stems_drop_stop_words() -> None:
    assert T.stems("The bakers were baking bread") == ["baker", "bake", "bread"]


def test_numbers_are_normalised() -> None:
    assert T.numbers("Turnout was 61.5% of 12,400 voters.") == {"61.5", "12400"}


@pytest.mark.parametrize("text,spans", [
    ("The ferry left. It sank.", [(0, 15), (16, 24)]),
    ("Dr. Lind spoke at 9 a.m. today. Then rain.", [(0, 31), (32, 42)]),
    ("A heading\nA line after it.", [(0, 9), (10, 26)]),
    ("“Go home,” she said. They went.", [(0, 20), (21, 31)]),
    ("• The ferry left. • It sank.", [(2, 17), (20, 28)]),  # a bullet starts a sentence and belongs to none
    ("She said “Row on.” Then (at noon.) they rowed.", [(0, 18), (19, 46)]),  # closing marks stay with their sentence
    ("\u00a0The ferry left.\u2003", [(1, 16)]),  # any whitespace at the edges belongs to no sentence
    ("\u2003• \u00a0The ferry left.", [(4, 19)]),  # whitespace and bullets, in any order
    (" \u00a0 ", []),  # nothing but whitespace: no sentence (not an inverted span)
])
def test_sentence_spans(text: str, spans: list[tuple[int, int]]) -> None:
    assert T.sentence_spans(text) == spans


def test_sentence_spans_shift_by_offset() -> None:
    assert T.sentence_spans("One. Two.", 100) == [(100, 104), (105, 109)]


def test_acronyms_are_initials_of_capitalised_runs() -> None:
    found = T.acronyms("the North Atlantic Treaty Organization met")
    assert {"nato", "nat", "at"} <= found and "nam" not in found


@pytest.mark.parametrize("question,parts", [
    ("Where was the mayor born, and when did she take office?", ["Where was the mayor born", "when did she take office?"]),
    ("Who sold bread and milk?", ["Who sold bread and milk?"]),
    ("Rain, and what else?", ["Rain, and what else?"]),  # too short a first part to be a question of its own
])
def test_split_question(question: str, parts: list[str]) -> None:
    assert T.split_question(question) == parts


@pytest.mark.parametrize("stem,stems,expected", [
    ("fighter", {"firefighter"}, True),  # a compound
    ("korea", {"koreans"}, True),  # a place and its people
    ("dostoevsky", {"dostoevski"}, True),  # one letter apart
    ("dostoevsky", {"tostoevsky"}, False),  # but never the first
    ("oslo", {"osloan"}, False),  # too short to match loosely
    ("market", {"marketing"}, False),  # a longer word is not a variant
])
def test_variant(stem: str, stems: set[str], expected: bool) -> None:
    assert T.variant(stem, stems) is expected


def test_overlap_weights_rare_words_more() -> None:
    idf = {"ferri": 3.0, "left": 1.0}
    assert T.overlap("ferry left", "the ferry sailed", idf) == pytest.approx(0.75)
    assert T.overlap("ferry left", "she left early", idf) == pytest.approx(0.25)
    assert T.overlap("firefighters", "the fighters", {}, variants=False) == 0.0


def test_shingles_and_containment() -> None:
    a, b = T.shingles("one two three four five"), T.shingles("zero one two three four")
    assert T.containment(a, b) == 0.5 and T.shingles("too short") == {("too", "short")}
