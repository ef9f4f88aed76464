"""The learned reader: its weights are the manifest's, it loads offline, and it tells an answer from a non-answer."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from rag.answer import answer_types, reader
from rag.config import ROOT
from rag.errors import RagError


def test_manifest_names_the_weights_their_data_and_split() -> None:
    m = reader.manifest()
    for name, digest in m["files"].items():  # type: ignore[attr-defined]
        assert hashlib.sha256((reader.FOLDER / name).read_bytes()).hexdigest() == digest
    assert {"base", "data", "split", "hyperparameters", "figures", "threshold", "head"} <= set(m)
    assert all(len(d) == 64 for d in m["data"]["sha256"].values())  # type: ignore[index]
    split = json.loads((ROOT / "train" / "splits" / "squad2.json").read_text())
    assert split["parts"] == m["split"]["parts"]  # type: ignore[index]
    parts = split["parts"]
    assert not set(parts["test"]) & (set(parts["encoder"]) | set(parts["head"]))


def test_weights_fit_the_budget() -> None:
    assert sum(p.stat().st_size for p in (ROOT / "rag" / "models").rglob("*") if p.is_file()) <= 50 * 2**20


def test_weights_that_do_not_match_the_manifest_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "reader"
    shutil.copytree(reader.FOLDER, folder)
    data = bytearray((folder / "encoder.safetensors").read_bytes())
    data[-1] ^= 1
    (folder / "encoder.safetensors").write_bytes(bytes(data))
    with pytest.raises(RagError, match="does not match its manifest"):
        reader.check(folder)


def test_missing_manifest_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="make train-reader"):
        reader.manifest(tmp_path)


def _probability(question: str, sentence: str, paragraph: str) -> float:
    enc = reader.encoder()
    q, s = enc.encode([question, sentence])
    kind = answer_types.of(question)
    x = reader.features(float(q @ s), question, sentence, reader.passage(question, paragraph, paragraph, {}), {}, kind)
    return reader.head().probability(x)


@pytest.mark.slow
def test_the_trained_reader_prefers_the_answer_and_refuses_off_topic() -> None:
    paragraph = "The bridge over the Vltava opened in 1357. It was built under King Charles IV. Tourists crowd it."
    question = "Under which king was the bridge over the Vltava built?"
    answer = _probability(question, "It was built under King Charles IV.", paragraph)
    other = _probability(question, "Tourists crowd it.", paragraph)
    assert answer > other
    assert answer >= reader.head().threshold
    assert _probability("Who won the 1998 football World Cup?", "Tourists crowd it.", paragraph) < reader.head().threshold
