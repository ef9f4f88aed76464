"""Verification keeps a claim's meaning, not only its words: negations, swapped roles, invented causes and
joined passages, on the seed corpus through `rag check`'s path."""

from __future__ import annotations

import pytest

from rag.answer import check
from rag.answer.pipeline import Pipeline

TRUE = [
    "Tokayev asked Russia to send forces belonging to a security alliance of former Soviet republics.",
    "Kazakhstan shares a border of 6,846 kilometers with Russia.",
    "Tokaev called for peace and offered support.",
]
FALSE = [
    "Russia asked Tokayev to send forces belonging to a security alliance.",  # roles swapped
    "Kazakhstan does not share a border of 6,846 kilometers with Russia.",  # negated
    "Kazakhstan shares a border of 6,846 kilometers with Russia because of the mobilization.",  # invented cause
    "Putin asked Russia to send forces belonging to a security alliance.",  # a name no passage gives
    "Kazakhstan shares a border of 6,947 kilometers with Russia.",  # a number changed
]


@pytest.mark.parametrize("claim", TRUE)
def test_true_claims_are_supported(pipe: Pipeline, claim: str) -> None:
    assert check.check(pipe, claim).sentences[0].supported


@pytest.mark.parametrize("claim", FALSE)
def test_false_claims_are_not(pipe: Pipeline, claim: str) -> None:
    assert not check.check(pipe, claim).sentences[0].supported


def test_a_claim_joining_two_passages_cites_both(pipe: Pipeline) -> None:
    s = check.check(pipe, "Kazakhstan shares a border of 6,846 kilometers with Russia, and Tokayev called for peace "
                          "and offered support.").sentences[0]
    assert s.supported and len({c.source for c in s.citations}) == 2
