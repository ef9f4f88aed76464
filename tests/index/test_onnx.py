"""The exported encoders: sentence-transformers' vectors through ONNX Runtime, and a query path without torch."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.answer import reader
from rag.config import ROOT
from rag.index import embed, export, onnx

TEXTS = [
    "What is the CSTO?", "  surrounded by spaces \n", "", "a", "Ünïcödé naïve café — «quotes» 東京",
    "The Collective Security Treaty Organization met in Moscow. " * 40,  # past 256 word pieces: cut as ST cuts
    *(f"Sentence {i} about {'the ferry and the storm ' * i}." for i in range(30)),
]


@pytest.fixture(scope="module")
def torch_embedder() -> embed.SentenceTransformerEmbedder:
    return embed.SentenceTransformerEmbedder(embed.bundled_model_path(), onnx.BUNDLED)


def test_the_bundled_embedder_is_the_onnx_export_with_the_same_name_and_size(
    embedder: embed.Embedder, torch_embedder: embed.SentenceTransformerEmbedder
) -> None:
    assert isinstance(embedder, onnx.OnnxEmbedder)
    assert (embedder.name, embedder.dim) == (torch_embedder.name, torch_embedder.dim)  # an index fits either


def test_onnx_vectors_match_sentence_transformers(embedder: embed.Embedder, torch_embedder: embed.SentenceTransformerEmbedder) -> None:
    ours, theirs = embedder.encode(TEXTS), torch_embedder.encode(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    assert float(np.abs(ours - theirs).max()) < 1e-4
    assert float(np.abs(embedder.encode(TEXTS[:1]) - ours[:1]).max()) < 1e-5  # alone or in a batch


def test_the_reader_encoder_matches_its_torch_form() -> None:
    exported, torch_form = reader.encoder(), reader._torch_encoder(reader.FOLDER)
    assert isinstance(exported, onnx.OnnxEmbedder)
    assert float(np.abs(exported.encode(TEXTS) - torch_form.encode(TEXTS)).max()) < 1e-4


def test_an_export_is_stale_when_its_weights_change(tmp_path: Path) -> None:
    model = onnx.MODELS / f"{onnx.BUNDLED}.onnx"
    copy = tmp_path / model.name
    copy.symlink_to(model)
    made = json.loads(onnx.manifest_path(model).read_text(encoding="utf-8"))
    onnx.manifest_path(copy).write_text(json.dumps(made), encoding="utf-8")
    assert onnx.current(copy, embed.bundled_model_path(), None)
    layers = tmp_path / "layers.safetensors"
    layers.write_bytes(b"other weights")
    assert not onnx.current(copy, embed.bundled_model_path(), layers)
    onnx.manifest_path(copy).write_text(json.dumps({**made, "format": onnx.FORMAT + 1}), encoding="utf-8")
    assert not onnx.current(copy, embed.bundled_model_path(), None)


def test_a_missing_export_that_cannot_be_made_falls_back_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(out: Path, source: Path, layers: Path | None = None) -> Path:
        raise RuntimeError("no room")

    monkeypatch.setattr(onnx, "MODELS", tmp_path)
    monkeypatch.setattr(export, "export", fail)
    with caplog.at_level(logging.WARNING, logger=onnx.__name__):
        assert onnx.load(onnx.BUNDLED, embed.bundled_model_path()) is None
    assert "make export-onnx" in caplog.records[-1].getMessage()


@pytest.mark.parametrize("rules", ["seed-fitted", "reader", "cross"])
def test_asking_never_imports_torch(seeds_index: Path, rules: str) -> None:
    script = (
        "import sys\nfrom rag.answer import pipeline\n"
        "answer = pipeline.build().ask('What is the CSTO?')\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'bm25s', 'scipy') if m in sys.modules)\n"
        "print(answer.refused, heavy)\n"
    )
    env = {**os.environ, "RAG_INDEX_DIR": str(seeds_index), "RAG_CORPUS_DIR": str(ROOT / "seeds"), "RAG_LLM": "extractive",
           "RAG_RULES": rules, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False []"  # answered, with neither torch nor bm25s (and its scipy)


def test_a_bulk_encode_shares_its_batches_among_one_session_per_core(embedder: embed.Embedder) -> None:
    assert isinstance(embedder, onnx.OnnxEmbedder)
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS * 8)]
    assert len(texts) >= onnx.BULK
    bulk, one = embedder.encode_passages(texts), embedder.encode(texts)
    assert float(np.abs(bulk - one).max()) < 1e-5  # the same vectors, in the same rows
    assert len(embedder._workers) == (embedder.threads if embedder.threads > 1 else 0)


def test_a_failing_batch_fails_the_bulk_encode(embedder: embed.Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(embedder, onnx.OnnxEmbedder)
    if embedder.threads < 2:
        pytest.skip("one core: a bulk encode is an ordinary encode")
    real = embedder._batch

    def failing(texts: list[str], session: object = None) -> np.ndarray:
        if any("(7)" in t for t in texts):
            raise RuntimeError("out of memory")
        return real(texts, session)

    monkeypatch.setattr(embedder, "_batch", failing)
    with pytest.raises(RuntimeError, match="out of memory"):
        embedder.encode_passages([f"paragraph ({i})" for i in range(onnx.BULK)])
