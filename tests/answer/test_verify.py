from __future__ import annotations

import numpy as np
import pytest

from rag.answer import verify
from rag.answer.pipeline import Pipeline
from tests.conftest import hit


def test_parse_attaches_markers_to_their_sentence() -> None:
    assert verify.parse("Kazakhstan borders Russia [2]. It is large [1, 3] and old. Uncited.") == [
        ("Kazakhstan borders Russia.", [2]), ("It is large and old.", [1, 3]), ("Uncited.", [])]
    assert verify.parse("The ferry left [1]. • It sank [2].") == [("The ferry left.", [1]), ("It sank.", [2])]


def _hits(pipe: Pipeline) -> list:  # type: ignore[type-arg]
    return pipe.retriever.search("Units from which countries were in the CSTO force and how many Russians crossed the border?", 5)


def test_wrong_citation_is_repointed(pipe: Pipeline) -> None:
    hits = _hits(pipe)
    right = next(n for n, h in enumerate(hits, 1) if "Belarus" in h.paragraph.text)
    wrong = next(n for n in range(1, 6) if n != right)
    v = verify.verify(f"The forces include units from Belarus, Armenia, Tajikistan, Kyrgyzstan and Russia [{wrong}].", hits, pipe.retriever.embed)
    assert v.claims[0].supported and v.citations[0].id == hits[right - 1].paragraph.id
    assert any("instead of" in n for n in v.notes)


def test_invented_marker_is_removed_and_uncited_sentence_gets_a_source(pipe: Pipeline) -> None:
    hits = _hits(pipe)
    v = verify.verify("The forces include units from Belarus, Armenia, Tajikistan, Kyrgyzstan and Russia [9].", hits, pipe.retriever.embed)
    assert any("[9]" in n for n in v.notes) and v.claims[0].supported and "Belarus" in v.citations[0].quote


def test_unsupported_sentence_is_flagged(pipe: Pipeline) -> None:
    hits = _hits(pipe)
    v = verify.verify("The force had 2,500 soldiers from France [1].", hits, pipe.retriever.embed)
    assert not v.claims[0].supported
    assert all(not c.supported for c in v.citations)


def test_a_sentence_restating_the_question_is_not_supported(pipe: Pipeline) -> None:
    q = "Units from which countries did the forces include?"
    hits = pipe.retriever.search(q, 5)
    assert verify.verify(f"{q} [1]", hits, pipe.retriever.embed).claims[0].supported  # close enough to the passage
    echo = verify.verify(f"{q} [1]", hits, pipe.retriever.embed, q)
    assert not echo.claims[0].supported and echo.notes[-1].endswith("asserts nothing: it restates the question")
    answer = "The forces include units from Belarus, Armenia, Tajikistan, Kyrgyzstan and Russia [1]."
    assert verify.verify(answer, hits, pipe.retriever.embed, q).claims[0].supported


def _alike(texts: list[str]) -> np.ndarray:
    return np.ones((len(texts), 4)) / 2  # every cosine is 1: only the word checks decide


@pytest.mark.parametrize("coverage,supported", [(verify.COVERAGE, False), (0.0, True)])
def test_a_sentence_needs_most_of_its_words_in_its_paragraph(monkeypatch: pytest.MonkeyPatch, coverage: float,
                                                              supported: bool) -> None:
    monkeypatch.setattr(verify, "COVERAGE", coverage)
    para = [hit("a.txt#p1", "The mayor of Oslo opened the new bridge on Monday.")]
    assert verify.verify("The mayor of Oslo opened the bridge [1].", para, _alike).claims[0].supported
    mixed = verify.verify("The mayor of Oslo visited every school and hospital for the winter [1].", para, _alike)
    assert mixed.claims[0].supported is supported  # its name is there, most of what it says is not

