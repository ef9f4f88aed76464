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
    "Kazakhstan made changes to its military doctrine after the regional summit in Astana.",  # a leading phrase moved
    "Russian troops were sent to Kazakhstan.",  # a name as its demonym
    "The Kazakh government has no plans to close its borders.",
    "The demonstrators are especially angry with former President Nursultan Nazarbayev.",  # not the city Nur-Sultan
    "Tokayev urged Kazakhs to be patient and tolerant toward the Russians arriving.",  # a people named in the plural
    "Tokayev refused to recognize the Donetsk and Lugansk republics in the presence of Putin.",
    "Hotels and hostels are full.",  # the source's words in its order, a clause left out
]
FALSE = [
    "Russia asked Tokayev to send forces belonging to a security alliance.",  # roles swapped
    "Rents are full, and hotels and hostels are skyrocketing.",  # the source's own words trading places
    "Kazakhstan does not share a border of 6,846 kilometers with Russia.",  # negated
    "Kazakhstan shares a border of 6,846 kilometers with Russia because of the mobilization.",  # invented cause
    "Putin asked Russia to send forces belonging to a security alliance.",  # a name no passage gives
    "Kazakhstan shares a border of 6,947 kilometers with Russia.",  # a number changed
    "It should be taken into account that Ukraine has the longest border with Russia.",  # a name of the corpus swapped in
    "President Tokayev made it clear that Kazakhstan must never not violate the current sanctions.",  # a second negation
    "Putin said that Kazakhstan's membership in the thousand-nation Eurasian Economic Union helps it.",  # a number in words
    "He is considered the patron of the current President Tokayev due to the patron of the current.",  # a cause, in its words
    "The Kazakh government plans to close its borders to Russians.",  # the closest passage says otherwise
    "Kazakhstan recognized the Donetsk and Lugansk republics.",  # "refused to recognize", said as a fact
    "In his opinion, this would improve the problems with transit through Russia.",  # "worsen": its opposite
    "There is a Russian minority living in Kazakhstan, which gives Moscow a weak excuse to intervene.",  # "strong"
    "Tokayev said that many people from Kazakhstan have come over to Russia.",  # roles swapped around "from"
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
