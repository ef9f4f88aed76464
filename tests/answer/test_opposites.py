"""The opposites a plain-word negation is read by: the shipped table is the one its manifest names, the
script that writes it reads WordNet's data files as they are laid out, and the claim's word must stand where
the source has its opposite."""

from __future__ import annotations

import hashlib
import json

import pytest

from rag.answer import opposites
from rag.errors import RagError
from train import antonyms

# Two synsets of a WordNet data file, with its licence header: "fail" (!) "succeed"/"win", and a phrase.
DATA = """  1 This software and database is being provided to you, the LICENSEE, by Princeton University
00001000 41 v 02 succeed 0 win 1 001 ! 00002000 v 0101 | attain success
00002000 41 v 02 fail 0 break_down 0 001 ! 00001000 v 0101 | be unsuccessful
"""


def test_the_manifest_names_the_table_it_ships_with() -> None:
    folder = opposites.TABLE.parent
    m = json.loads((folder / "manifest.json").read_text())
    assert m["sha256"] == {"antonyms.tsv": hashlib.sha256(opposites.TABLE.read_bytes()).hexdigest()}
    lines = opposites.TABLE.read_text().splitlines()
    assert len(lines) == sum(m["pairs"].values()) and "v\tsucceed\tfail" in lines
    assert "Princeton University" in (folder / "LICENSE-WordNet.txt").read_text()


def test_the_script_opposes_both_synsets_both_ways_and_leaves_out_phrases(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "data.verb").write_text(DATA)
    pairs = antonyms.antonyms(tmp_path)
    assert pairs == sorted({("v", "succeed", "fail"), ("v", "fail", "succeed"), ("v", "win", "fail"), ("v", "fail", "win")})


def test_a_word_opposes_only_where_the_source_lacks_it() -> None:
    assert opposites.opposed("The reform increased prices.", "The reform decreased prices.") == 1
    assert opposites.opposed("Prices increased, then decreased.", "Prices decreased after they increased.") == 0
    assert opposites.opposed("The talks were a success.", "The talks were a success despite fears.") == 0


def test_a_missing_table_says_how_to_make_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RagError, match="make antonyms"):
        opposites._opposites.__wrapped__(tmp_path / "antonyms.tsv")
