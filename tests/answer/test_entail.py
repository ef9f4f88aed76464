"""The consistency model: its weights are the manifest's, only low-rank updates and a classifier ship, its ONNX form
scores as its torch form, and as RAG_VERIFY=entail it tells a sentence's own claim from a negated or swapped one."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.answer import entail, reader
from rag.answer import verify as V
from rag.answer.retrieve import Hit
from rag.config import ROOT
from rag.errors import RagError
from rag.index import embed
from rag.ingest.corpus import Paragraph

SOURCE = "The bridge over the Vltava was built under King Charles IV in 1357."


def test_manifest_names_the_weights_their_data_split_and_threshold() -> None:
    m = reader.manifest(entail.FOLDER, "entail")
    for name, digest in m["files"].items():  # type: ignore[attr-defined]
        assert hashlib.sha256((entail.FOLDER / name).read_bytes()).hexdigest() == digest
    assert {"base", "data", "split", "claims", "hyperparameters", "figures", "threshold", "train_seconds"} <= set(m)
    assert all(len(d) == 64 for d in m["data"]["sha256"].values())  # type: ignore[index]
    split = json.loads((ROOT / "train" / "splits" / "squad2.json").read_text())
    assert split["parts"] == m["split"]["parts"]  # type: ignore[index]
    assert 0.0 < entail.threshold() < 1.0


def test_only_updates_and_the_classifier_ship_not_layers() -> None:
    from safetensors import safe_open

    with safe_open(str(entail.FOLDER / entail.WEIGHTS), "np") as f:
        keys = list(f.keys())
        sizes = {k: f.get_slice(k).get_shape() for k in keys}
    updates = [k for k in keys if not k.startswith("head.")]
    assert updates and all(k.endswith((".lora_a", ".lora_b")) for k in updates)
    assert {".".join(k.split(".")[:3]) for k in updates} == {f"encoder.layer.{i}" for i in range(6)}
    assert all(min(sizes[k]) <= 32 for k in updates)  # low rank: one side of each factor is small
    assert (entail.FOLDER / entail.WEIGHTS).stat().st_size < 5_000_000


def test_weights_that_do_not_match_the_manifest_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "entail"
    shutil.copytree(entail.FOLDER, folder)
    data = bytearray((folder / entail.WEIGHTS).read_bytes())
    data[-1] ^= 1
    (folder / entail.WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(RagError, match="consistency model's encoder.safetensors .* does not match its manifest: run `make train-entail`"):
        entail.encoder(folder)


def test_updates_that_do_not_fit_the_model_are_refused(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    from rag.index import export

    bad = tmp_path / "bad.safetensors"
    save_file({"encoder.layer.0.attention.self.query.lora_a": np.zeros((4, 10), np.float32),
               "encoder.layer.0.attention.self.query.lora_b": np.zeros((384, 4), np.float32)}, str(bad))
    with pytest.raises(RagError, match="do not fit the model"):
        export._transformer(embed.bundled_model_path(), bad)


def test_the_onnx_model_scores_as_its_torch_form() -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    from rag.index import export
    from train.entail import Hyper, _classifier, _halves, features

    source = embed.bundled_model_path()
    model = export._transformer(source, entail.FOLDER / entail.WEIGHTS)
    tok = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    head = _classifier(Hyper())
    head.load_state_dict({k[len("head."):]: v for k, v in load_file(str(entail.FOLDER / entail.WEIGHTS)).items()
                          if k.startswith("head.")})
    claims = ["The bridge over the Vltava was not built under King Charles IV.", "King Charles IV built the bridge in 1357."]
    with torch.inference_mode():
        theirs = torch.sigmoid(head(features(*_halves(model, tok, [(c, SOURCE, "") for c in claims], Hyper.max_tokens)))
                               .squeeze(-1)).numpy()
    ours = np.array([entail.probabilities(c, [SOURCE])[0] for c in claims])
    assert float(np.abs(ours - theirs).max()) < 1e-4


def accepted(claim: str, paragraph: str, embedder: embed.Embedder) -> bool:
    hit = Hit(Paragraph("x#p1", "x", "", 0, len(paragraph), paragraph), 1.0)
    v = V.verify(claim + " [1]", [hit], embedder.encode, "", "entail")
    return bool(v.claims) and all(c.supported for c in v.claims)


def test_verification_with_it_keeps_restatements_and_drops_what_the_source_denies(embedder: embed.Embedder) -> None:
    paragraph = f"{SOURCE} Tourists crowd it every summer, and the city repaired its towers in 2010."
    assert accepted("The bridge over the Vltava was built under King Charles IV in 1357.", paragraph, embedder)
    assert accepted("King Charles IV had the bridge over the Vltava built in 1357.", paragraph, embedder)
    assert not accepted("The bridge over the Vltava was not built under King Charles IV in 1357.", paragraph, embedder)
    assert not accepted("The city repaired its towers because tourists crowd it every summer.", paragraph, embedder)
