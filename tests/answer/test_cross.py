"""The cross-encoder: its weights are the manifest's, its ONNX form scores as its torch form, it tells answers apart."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.answer import cross, reader
from rag.config import ROOT
from rag.errors import RagError
from rag.index import embed

PARAGRAPH = ["The bridge over the Vltava opened in 1357.", "It was built under King Charles IV.", "Tourists crowd it."]


def test_manifest_names_the_weights_their_data_split_and_threshold() -> None:
    m = reader.manifest(cross.FOLDER, "cross")
    for name, digest in m["files"].items():  # type: ignore[attr-defined]
        assert hashlib.sha256((cross.FOLDER / name).read_bytes()).hexdigest() == digest
    assert {"base", "data", "split", "hyperparameters", "figures", "threshold", "cosine_threshold", "head", "null"} <= set(m)
    assert all(len(d) == 64 for d in m["data"]["sha256"].values())  # type: ignore[index]
    split = json.loads((ROOT / "train" / "splits" / "squad2.json").read_text())
    assert split["parts"] == m["split"]["parts"]  # type: ignore[index]
    assert 0.0 < cross.threshold() < 1.0 and 0.0 < reader.head(cross.FOLDER, "cross").threshold < 1.0


def test_weights_that_do_not_match_the_manifest_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cross"
    shutil.copytree(cross.FOLDER, folder)
    data = bytearray((folder / "encoder.safetensors").read_bytes())
    data[-1] ^= 1
    (folder / "encoder.safetensors").write_bytes(bytes(data))
    with pytest.raises(RagError, match="cross-encoder's encoder.safetensors .* does not match its manifest: run `make train-cross`"):
        cross.encoder(folder)


def test_the_onnx_cross_encoder_scores_as_its_torch_form() -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from rag.index import export
    from train.cross import Hyper, _scores

    source = embed.bundled_model_path()
    model = export._transformer(source, cross.FOLDER / "encoder.safetensors")
    tok = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    assert isinstance(model, type(AutoModel.from_pretrained(str(source), local_files_only=True)))
    question = "Under which king was the bridge over the Vltava built?"
    with torch.inference_mode():
        theirs = _scores(model, tok, question, PARAGRAPH, Hyper.max_tokens).numpy()
    ours = cross.scores(cross.encoder(), question, PARAGRAPH)
    assert float(np.abs(ours - theirs).max()) < 1e-4


@pytest.mark.slow
def test_the_cross_encoder_prefers_the_answer_and_refuses_off_topic() -> None:
    model, limit = cross.encoder(), cross.threshold()
    answer, other, year = cross.scores(model, "Under which king was the bridge over the Vltava built?", PARAGRAPH)[[1, 2, 0]]
    assert answer > max(other, year) and answer >= limit
    assert cross.scores(model, "Who won the 1998 football World Cup?", PARAGRAPH).max() < limit
