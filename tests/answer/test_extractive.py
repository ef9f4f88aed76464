"""The offline answerer on tiny made-up passages, with a deterministic fake embedder."""

from __future__ import annotations

from rag import text as T
from rag.answer.extractive import ANNOUNCES, FITTED_ANNOUNCES, Extractive, Rules
from rag.answer.generate import REFUSAL, Generator
from rag.index.embed import Cached
from tests.conftest import hit

FERRY = hit("lake.txt#p1", "The ferry across Lake Orta carries 300 passengers. It was built in 1962. "
                           "This made it the largest boat on the lake.")
BAKERY = hit("town.txt#p2", "The bakery on Mill Street was founded by Ada Moss. It sells rye bread.")
LIST = hit("town.txt#p3", "At its meeting on Monday evening the town council gave two reasons for the new bridge:")
ITEMS = hit("town.txt#p4", "Traffic had doubled since 2010. The old bridge was unsafe.")


def answerer(embed: Cached, **rules: object) -> Extractive:
    return Extractive(embed, rules=Rules(**rules))  # type: ignore[arg-type]


def ask(gen: Generator, question: str, hits: list) -> str:  # type: ignore[type-arg]
    return gen.generate(question, T.split_question(question), hits).text


def test_the_sentence_holding_the_asked_thing_answers(fake_embed: Cached) -> None:
    answer = ask(answerer(fake_embed), "How many passengers does the ferry carry?", [BAKERY, FERRY])
    assert answer.startswith("The ferry across Lake Orta carries 300 passengers. [2]")


def test_weak_evidence_is_refused(fake_embed: Cached) -> None:
    draft = answerer(fake_embed).generate("Who won the chess final?", ["Who won the chess final?"], [FERRY, BAKERY])
    assert draft.refused and draft.text == REFUSAL


def test_a_name_missing_from_the_document_costs_its_sentences(fake_embed: Cached) -> None:
    question = "How many passengers does the ferry on Lake Como carry?"
    full, free = answerer(fake_embed, missing_name=0.3).score(question, [FERRY]), answerer(fake_embed).score(question, [FERRY])
    assert [round(b.score - a.score, 6) for a, b in zip(full, free)] == [0.3] * len(full)
    named = "How many passengers does the Orta ferry carry?"
    assert answerer(fake_embed, missing_name=0.3).score(named, [FERRY]) == answerer(fake_embed).score(named, [FERRY])


def test_a_number_of_the_question_missing_from_the_document_costs_its_sentences(fake_embed: Cached) -> None:
    on, off = answerer(fake_embed), answerer(fake_embed, missing_number=0.0)
    question = "What was the ferry on the lake renamed in 1975?"
    assert [round(b.score - a.score, 6) for a, b in zip(on.score(question, [FERRY]), off.score(question, [FERRY]))] == [0.5] * 3
    for held in ("What was the ferry on the lake called in 1962?", "What was the ferry on the lake called?"):
        assert on.score(held, [FERRY]) == off.score(held, [FERRY])


def test_each_part_of_a_two_part_question_is_answered(fake_embed: Cached) -> None:
    answer = ask(answerer(fake_embed), "Who founded the bakery on Mill Street, and how many passengers does the ferry carry?",
                 [BAKERY, FERRY])
    assert "Ada Moss" in answer and "300 passengers" in answer


def test_a_sentence_ending_in_a_colon_brings_what_follows(fake_embed: Cached) -> None:
    question = "What reasons did the council give for the new bridge?"
    assert "doubled" in ask(answerer(fake_embed, announces=ANNOUNCES), question, [LIST, ITEMS, FERRY])
    assert "doubled" not in ask(answerer(fake_embed), question, [LIST, ITEMS, FERRY])


def test_a_list_after_a_colon_runs_on_but_a_quote_is_one_sentence(fake_embed: Cached) -> None:
    question = "What reasons did the council give for the new bridge?"
    assert ask(answerer(fake_embed, announces=ANNOUNCES), question, [LIST, ITEMS]).endswith(
        "Traffic had doubled since 2010. [2] The old bridge was unsafe. [2]")
    said = hit("town.txt#p3", "The town council gave its reasons for the new bridge on Monday, the mayor said.")
    answer = ask(answerer(fake_embed, announces=FITTED_ANNOUNCES), question, [said, ITEMS])
    assert "doubled" in answer and "unsafe" not in answer


def test_a_title_question_is_answered_by_the_title_of_the_document_it_describes(fake_embed: Cached) -> None:
    titles = [hit("lake.txt#title", "Morning edition", "Morning edition", "title"),
              hit("town.txt#title", "Evening edition", "Evening edition", "title")]
    texts = [hit("lake.txt#p1", FERRY.paragraph.text, "Morning edition"), hit("town.txt#p2", BAKERY.paragraph.text, "Evening edition")]
    for question, title in [("What is the title of the article about the ferry across Lake Orta?", "Morning edition [3]"),
                            ("What is the headline of the article about the bakery founded by Ada Moss?", "Evening edition [4]")]:
        assert ask(answerer(fake_embed), question, texts + titles) == title
    assert ask(answerer(fake_embed), "What is the title of the article about the chess final in Oslo?", texts + titles) == REFUSAL


def test_a_sentence_referring_back_comes_with_the_chosen_one(fake_embed: Cached) -> None:
    answer = ask(answerer(fake_embed, margin=0.0, threshold=0.0), "In which year was the ferry built?", [FERRY])
    assert answer == "It was built in 1962. [1] This made it the largest boat on the lake. [1]"


def test_a_whether_question_is_answered_not_refused(fake_embed: Cached) -> None:
    note = hit("fair.txt#p1", "The fair organisers counted the visitors. They did not disclose the number of visitors.")
    answer = ask(answerer(fake_embed), "Did the fair organisers disclose the number of visitors?", [note])
    assert "did not disclose" in answer


def test_author_questions_are_answered_from_the_author_line(fake_embed: Cached) -> None:
    byline = hit("lake.txt#author", "By Lena Rossi", "Ferries of Lake Orta", "author")
    ferry = hit("lake.txt#p1", FERRY.paragraph.text, "Ferries of Lake Orta")
    answer = ask(answerer(fake_embed), "Who wrote the article about the ferries of Lake Orta?", [ferry, byline])
    assert answer == "By Lena Rossi [2]"
    assert "Lena" not in ask(answerer(fake_embed), "How many passengers does the ferry carry?", [ferry, byline])


def test_sentences_are_scored_once_per_part(fake_embed: Cached) -> None:
    gen = answerer(fake_embed)
    scored = gen.score("How many passengers does the ferry carry?", [FERRY, BAKERY])
    assert [s.score for s in scored] == sorted((s.score for s in scored), reverse=True)
    assert {(s.n, s.sentence.start) for s in scored} == {(n, s.start) for n, h in enumerate([FERRY, BAKERY], 1) for s in h.sentences}
