"""The learned consistency checker: its trees are the ones its manifest names, and with the real bundled
embedder it keeps clear true claims and catches clear false ones, as verification's `learned` mode."""

from __future__ import annotations

import hashlib
import json

import pytest

from rag.answer import checker, verify
from rag.errors import RagError
from rag.index import embed
from tests.conftest import hit

PASSAGE = ("In 1066, William the Conqueror defeated Harold Godwinson at the Battle of Hastings. The Normans "
           "then built castles across England, and the old nobility lost most of its land. The king was "
           "crowned at Westminster Abbey on Christmas Day.")
TRUE = [
    "William the Conqueror defeated Harold Godwinson at the Battle of Hastings.",  # a clause
    "William the Conqueror defeated Harold Godwinson at the Battle of Hastings in 1066.",  # a phrase moved
    "The Normans then built castles across England.",  # compressed
]
FALSE = [
    "In 1066, William the Conqueror did not defeat Harold Godwinson at the Battle of Hastings.",  # negated
    "In 1066, Harold Godwinson defeated William the Conqueror at the Battle of Hastings.",  # roles swapped
    "The Normans then built castles across England because of the old nobility.",  # an invented cause
    "The king was never crowned at Westminster Abbey on Christmas Day.",  # negated
]


@pytest.fixture(scope="module")
def fn(embedder: embed.Embedder) -> embed.Cached:
    return embed.Cached(embedder)


def _supported(claim: str, fn: embed.Cached, mode: str) -> bool:
    v = verify.verify(claim + " [1]", [hit("h#p1", PASSAGE)], fn, "", mode)
    return v.claims[0].supported


def test_the_manifest_names_the_trees_it_ships_with() -> None:
    m = checker.manifest()
    raw = (checker.FOLDER / "trees.json").read_bytes()
    assert m["files"] == {"trees.json": hashlib.sha256(raw).hexdigest()}
    assert m["features"] == list(checker.FEATURES)
    assert len(json.loads(raw)["trees"]) == m["hyperparameters"]["n_estimators"]  # type: ignore[index]


def test_trees_that_do_not_match_the_manifest_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "manifest.json").write_text((checker.FOLDER / "manifest.json").read_text())
    (tmp_path / "trees.json").write_text('{"base": 0.0, "trees": []}')
    with pytest.raises(RagError, match="train-checker"):
        checker.model(tmp_path)


@pytest.mark.parametrize("claim", TRUE)
def test_true_claims_are_kept(claim: str, fn: embed.Cached) -> None:
    assert _supported(claim, fn, "learned")


@pytest.mark.parametrize("claim", FALSE)
def test_false_claims_are_caught(claim: str, fn: embed.Cached) -> None:
    assert not _supported(claim, fn, "learned")


def test_an_unknown_mode_names_the_choices(fn: embed.Cached) -> None:
    with pytest.raises(RagError, match="rules, learned"):
        _supported(TRUE[0], fn, "oracle")


def test_features_see_a_negation_and_a_swap() -> None:
    s = "The army defeated the rebels."
    x = dict(zip(checker.FEATURES, checker.features("The rebels defeated the army.", s, s, s, (0.9, 0.9), [s],
                                                     lambda t: None)))  # type: ignore[arg-type, return-value]
    assert x["discord"] == 1.0 and x["neg_gap"] == 0.0
    y = dict(zip(checker.FEATURES, checker.features("The army never defeated the rebels.", s, s, s, (0.9, 0.9), [s],
                                                     lambda t: None)))  # type: ignore[arg-type, return-value]
    assert y["neg_gap"] == 1.0 and y["discord"] == 0.0
