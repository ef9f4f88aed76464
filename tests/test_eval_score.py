"""Scoring one answer against its hand-written question, on a made-up document."""

from __future__ import annotations

from rag.evaluate import Question, score, summarise

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
