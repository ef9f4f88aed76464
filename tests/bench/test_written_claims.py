"""The hand-written claims (eval/claims/): their schema, their kinds and truth, and their evidence quoted from the seeds."""

from __future__ import annotations

import sys

from rag.config import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import written_claims as W  # noqa: E402


def test_every_claim_has_a_known_kind_that_fixes_its_truth() -> None:
    rows = W.read()
    assert len(rows) >= 100
    assert [r["id"] for r in rows] == [f"c{n:03d}" for n in range(1, len(rows) + 1)]
    assert {r["kind"] for r in rows} == set(W.TRUE_KINDS) | set(W.FALSE_KINDS)  # every kind is written
    for r in rows:
        assert r["supported"] is (r["kind"] in W.TRUE_KINDS), r["id"]
        assert r["claim"].strip() and r["split"] in W.SPLITS


def test_the_evidence_of_a_true_claim_is_quoted_from_its_articles() -> None:
    seeds = {p.name: " ".join(p.read_text(encoding="utf-8").split()) for p in (ROOT / "seeds").glob("*.txt")}
    for r in W.read():
        assert set(r["file"]) <= set(seeds), r["id"]
        if r["supported"]:
            assert r["evidence"], r["id"]
            for quote in r["evidence"]:
                assert any(" ".join(quote.split()) in seeds[f] for f in r["file"]), (r["id"], quote)


def test_a_third_is_sealed() -> None:
    rows = W.read()
    sealed = [r for r in rows if r["split"] == "sealed"]
    assert len(sealed) == len(rows) // 3
