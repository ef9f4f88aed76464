from __future__ import annotations

import pytest

from rag.answer.pipeline import Pipeline

# (question, the text the first hit must contain): at least two from every file
CASES = [
    ("Which countries sent units to the CSTO force in Kazakhstan?", "units from Belarus, Armenia, Tajikistan, Kyrgyzstan and Russia"),
    ("What share of the population is the Russian minority?", "representing 20% of the population"),
    ("How long is the border between Kazakhstan and Russia?", "6,846 kilometers"),
    ("Who is the patron of President Tokayev?", "He is considered the patron"),
    ("Who met the Cabinet of Ministers to discuss security?", "Olzhas Bektenov"),
    ("Which groups use chaos for their own interests?", "extremist groups"),
    ("Which Presidential Spokesperson informed the parliament speakers?", "Berik Uali"),
    ("What did Tokayev post on Twitter on 1 March?", "released a statement on Twitter"),
    ("What happened to the Kazakhstani Tenge?", "all-time low"),
    ("Which new troops are planned in Kazakhstan's military doctrine?", "cybertroops"),
    ("What did China promise Kazakhstan?", "guarantor of the territorial integrity"),
    ("How many Russians crossed the border since the mobilization?", "nearly 100,000 Russians"),
    ("Which organizations is Kazakhstan committed to working in?", "Shanghai Cooperation Organization"),
]


@pytest.mark.parametrize("question,expected", CASES)
def test_right_paragraph_ranks_first(pipe: Pipeline, question: str, expected: str) -> None:
    hits = pipe.search(question, 5)
    assert expected in hits[0].paragraph.text


def test_hits_are_verbatim_and_clean(pipe: Pipeline) -> None:
    docs = pipe.retriever.index.documents
    for q, _ in CASES:
        hits = pipe.retriever.search(q, 10)
        assert all(h.sentences for h in hits)
        for h in hits:
            assert docs[h.paragraph.source]["text"][h.paragraph.start : h.paragraph.end] == h.paragraph.text
            assert "Latest news" not in h.paragraph.text and "KazTransOil" not in h.paragraph.text
            for s in h.sentences:
                assert docs[h.paragraph.source]["text"][s.start : s.end] == s.text


def test_hits_carry_ranks_and_scores(pipe: Pipeline) -> None:
    hits = pipe.search(CASES[0][0], 5)
    assert hits[0].ranks["dense"] is not None and hits[0].ranks["bm25"] is not None
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.paragraph.id for h in hits}) == 5
