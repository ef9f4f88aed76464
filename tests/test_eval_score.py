"""Scoring one answer against its hand-written question, on a made-up document."""

from __future__ import annotations

from rag.answer import support
from rag.answer import verify as V
from rag.answer.retrieve import Hit
from rag.evaluate import Question, score, summarise
from rag.index import embed
from rag.ingest.corpus import Paragraph

DOC = "The ferry left at six. It reached the island at nine. The island has one school."


def _citation(text: str, supported: bool) -> dict[str, object]:
    start = DOC.index(text)
    return {"id": f"d.txt#p{start}", "source": "d.txt", "start": start, "end": start + len(text), "quote": text,
            "supported": supported}


def test_citation_on_evidence_does_not_take_verification_at_its_word() -> None:
    q = Question("x1", "When did the ferry reach the island?", "single", True, [["nine"]], ["d.txt"],
                 ["It reached the island at nine."])
    right, wrong = "It reached the island at nine.", "The island has one school."
    answer = {"answer": f"{right} [1] {wrong} [2]", "refused": False,
              "citations": [_citation(right, True), _citation(wrong, True)],
              "passages": [{"id": f"d.txt#p{DOC.index(t)}", "text": t} for t in (right, wrong)]}
    row = score(q, answer, {"d.txt": DOC}, 5)
    assert row["citation_precision"] == [True, True]  # verification said both support their sentences
    assert row["citation_on_evidence"] == [True, False]  # only one points into the marked evidence
    assert summarise([row])["citation_on_evidence"] == 0.5 and row["answer_accuracy"] is True


def test_citations_of_an_unanswerable_question_are_not_held_to_evidence() -> None:
    q = Question("x2", "Who built the school?", "unanswerable", False, [], [], [])
    text = "The island has one school."
    answer = {"answer": f"{text} [1]", "refused": False, "citations": [_citation(text, True)],
              "passages": [{"id": f"d.txt#p{DOC.index(text)}", "text": text}]}
    row = score(q, answer, {"d.txt": DOC}, 5)
    assert row["citation_on_evidence"] == [] and row["refusal_accuracy"] is False


PASSAGE = "The city council approved the new bridge over the river on Tuesday, after a two-year debate about its cost."


def _supported(sentence: str, embed_fn: embed.Cached) -> dict[str, float | None]:
    q = Question("x3", "What did the council decide about the bridge?", "single", True, [["approved"]], ["b.txt"],
                 [PASSAGE])
    answer = {"answer": f"{sentence} [1]", "refused": False,
              "citations": [{"marker": 1, "id": "b.txt#p1", "source": "b.txt", "start": 0, "end": len(PASSAGE),
                             "quote": PASSAGE, "supported": True}],
              "passages": [{"id": "b.txt#p1", "text": PASSAGE}], "claims": [{"text": sentence, "markers": [1]}]}
    return summarise([score(q, answer, {"b.txt": PASSAGE}, 5, support.of(answer, embed_fn))])


def test_citation_support_turns_down_a_sentence_that_negates_its_cited_passage(embedder: embed.Embedder) -> None:
    embed_fn = embed.Cached(embedder)
    faithful = "The council approved the bridge after a two-year debate about its cost."  # no quote: the checker decides
    negated = "The city council did not approve the new bridge over the river on Tuesday."
    hit = Hit(Paragraph("b.txt#p1", "b.txt", "", 0, len(PASSAGE), PASSAGE), 1.0)
    assert V.similar(negated, embed_fn([negated])[0], hit, embed_fn)[0]  # similarity alone would accept it
    good, bad = _supported(faithful, embed_fn), _supported(negated, embed_fn)
    assert good["citation_support"] == good["citation_support_precision"] == 1.0
    assert bad["citation_support"] == bad["citation_support_precision"] == 0.0
    assert bad["citation_precision"] == 1.0  # verification's own word, as the answer carried it
