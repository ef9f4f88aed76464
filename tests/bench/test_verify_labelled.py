"""The labelled verification set (eval/verify/): its schema, its labels, the seal rule, and the composed settings
(similarity alone, both checkers) on a made-up passage; none asks the local model."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from rag.config import ROOT
from rag.index import embed

sys.path.insert(0, str(ROOT / "bench"))
import verify_labelled as VL  # noqa: E402

SOURCES = {"seed", "realtimeqa", "rgb"}


def _rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (VL.HERE / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_item_has_a_sentence_a_source_and_a_passage() -> None:
    items = _rows("items.jsonl")
    assert len(items) >= 90
    assert [it["n"] for it in items] == list(range(1, len(items) + 1))
    for it in items:
        assert it["id"] == f"v{it['n']:04d}" and it["source"] in SOURCES and it["sentence"].strip()
        p = it["passage"]
        assert 0 <= p["start"] < p["end"]
        if it["source"] == "seed":
            assert p["text"] and p["end"] - p["start"] == len(p["text"])
        else:  # a public set's passage is a reference into ../shared, never its text
            assert "text" not in p and p["file"].startswith(it["source"] + "/") and str(p["question_id"]) == it["question_id"]


def test_every_item_has_exactly_one_known_label() -> None:
    labels = _rows("labels.jsonl")
    ids = [r["id"] for r in labels]
    assert len(ids) == len(set(ids))
    assert set(ids) == {it["id"] for it in _rows("items.jsonl")}
    assert {r["label"] for r in labels} <= set(VL.LABELS)
    assert {r["label"] for r in labels} == set(VL.LABELS)  # each label is used


def test_the_seal_is_every_third_item_by_number() -> None:
    items = VL.labelled(VL.HERE / "items.jsonl", VL.HERE / "labels.jsonl")
    sealed = [it["n"] for it in items if it["split"] == "sealed"]
    assert sealed == [n for n in range(1, len(items) + 1) if n % 3 == 0]
    assert len(sealed) == len(items) // 3


@pytest.mark.parametrize("n, split", [(1, "working"), (2, "working"), (3, "sealed"), (300, "sealed")])
def test_split_of(n: int, split: str) -> None:
    assert VL.split_of({"n": n}) == split


def test_seed_passages_are_the_corpus_text() -> None:
    for it in (it for it in _rows("items.jsonl") if it["source"] == "seed"):
        source = it["passage"]["id"].split("#")[0]
        text = (ROOT / "seeds" / source).read_text(encoding="utf-8")
        assert text[it["passage"]["start"] : it["passage"]["end"]] == it["passage"]["text"]


def test_similarity_alone_accepts_a_negation_that_both_checkers_turn_down(embedder: embed.Embedder) -> None:
    fn = embed.Cached(embedder)
    text = "The city council approved the new bridge over the river on Tuesday, after a two-year debate about its cost."
    negated = "The city council did not approve the new bridge over the river on Tuesday."
    faithful = "The council approved the bridge after a two-year debate about its cost."
    assert VL.accepted(negated, text, fn, how="similarity")
    assert not any(VL.accepted(negated, text, fn, how=how) for how in ("rules", "learned", "both"))
    assert VL.accepted(faithful, text, fn, how="both")
