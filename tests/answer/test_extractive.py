"""The offline answerer on tiny made-up passages, with a deterministic fake embedder."""

from __future__ import annotations

from rag import text as T
from rag.answer.extractive import Extractive
from rag.answer.generate import REFUSAL, Generator
from rag.answer.rules import ANNOUNCES, FITTED_ANNOUNCES, WIDE, Rules
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


FESTIVAL = hit("lake.txt#p5", "The Orta ferry festival opens each May with a parade of boats. "
                              "During the festival the ferry boats are decorated with flowers from local gardens. "
                              "Bands from the villages play on the pier all weekend long.")


def test_wide_questions_are_told_by_their_form() -> None:
    for question in ("What is known about the Orta ferry festival?", "What happened to the old ferry?",
                     "What emergency measures did the council take?", "Which towns have joined the festival?",
                     "Why was the bridge closed?", "How does the ferry cross in winter?", "What did the mayor say?"):
        assert WIDE.search(question), question
    for question in ("What was the ferry called?", "What business does the bakery do?", "How many boats are there?",
                     "Which ferry was built in 1962?"):
        assert not WIDE.search(question), question


def test_a_summary_reads_on_in_its_passage_and_a_reason_does_not(fake_embed: Cached) -> None:
    elsewhere = hit("lake.txt#p9", "Many visitors from Milan come to the Orta festival.")  # scores above the second
    question, hits = "What is known about the Orta ferry festival?", [FESTIVAL, elsewhere, BAKERY]
    read, kept = answerer(fake_embed, margin=0.0, wide=4), answerer(fake_embed, margin=0.0, wide=4, reads_on=None)
    assert ask(kept, question, hits).count("[") == 1
    answer = ask(read, question, hits)
    assert "decorated with flowers" in answer and answer.count("[1]") == 2
    assert "[2]" not in answer  # closer, but in another paragraph
    assert "Bands" not in answer  # off the question: under the floor
    again = hit("lake.txt#p5", "The Orta ferry festival opens each May with a parade of boats. Each May the Orta ferry festival "
                               "opens with a boat parade. During the festival the ferry boats are decorated with flowers from local gardens.")
    answer = ask(read, question, [again])
    assert "decorated" in answer and "Each May" not in answer  # it says nothing new
    why = "Why is the Orta ferry festival decorated with flowers?"
    read, kept = answerer(fake_embed, margin=0.0, wide=4, threshold=0.0), answerer(fake_embed, margin=0.0, wide=4, threshold=0.0, reads_on=None)
    assert ask(read, why, hits) == ask(kept, why, hits) and ask(read, why, hits).count("[") == 1


def test_a_name_the_document_spells_otherwise_is_not_missing(fake_embed: Cached) -> None:
    spelt = hit("lake.txt#p1", "The ferry of Captain Toqayev across Lake Orta carries 300 passengers.")
    penalised, free = answerer(fake_embed, missing_name=0.3), answerer(fake_embed)
    for question in ("How many passengers does Captain Tokayev's ferry carry?", "How many passengers does Captain Tokaev's ferry carry?"):
        assert penalised.score(question, [spelt]) == free.score(question, [spelt])
    other = "How many passengers does Captain Petrov's ferry carry?"
    assert penalised.score(other, [spelt])[0].score < free.score(other, [spelt])[0].score
