"""The int8 embedder (RAG_EMBED_PRECISION=int8, the default): paragraphs at int8, close to fp32's vectors; questions at fp32."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import index
from rag.errors import RagError
from rag.index import embed, export, onnx
from tests.conftest import SEEDS
from tests.index.test_onnx import TEXTS

# Measured: per-channel int8 vectors have cosine >= 0.988 to fp32's on 384 SciFact paragraphs (mean 0.994); on TEXTS
# 0.971 for the empty text, >= 0.982 for the others (mean 0.990). One scale per tensor falls to 0.89 on SciFact.
MIN_COSINE, MEAN_COSINE = 0.96, 0.985
onnx_current = onnx.current


def test_the_int8_export_is_close_to_fp32(tmp_path: Path, embedder: embed.Embedder) -> None:
    out = export.quantize(onnx.MODELS / f"{onnx.BUNDLED}.onnx", tmp_path / f"{onnx.BUNDLED}-int8.onnx")
    made = json.loads(onnx.manifest_path(out).read_text(encoding="utf-8"))
    assert made["precision"] == "int8" and made["quantization"]["per_channel"] is True
    source = embed.bundled_model_path()
    assert onnx.current(out, source, None, "int8") and not onnx.current(out, source, None)
    int8 = onnx.OnnxEmbedder(out, source, onnx.named(onnx.BUNDLED, "int8"))
    ours, fp32 = int8.encode(TEXTS), embedder.encode(TEXTS)
    assert ours.shape == fp32.shape and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * fp32).sum(axis=1)
    assert float(cosines.min()) >= MIN_COSINE and float(cosines.mean()) >= MEAN_COSINE
    assert out.stat().st_size < (onnx.MODELS / f"{onnx.BUNDLED}.onnx").stat().st_size / 3


def test_the_int8_embedder_indexes_at_int8_and_asks_at_fp32(embedder: embed.Embedder) -> None:
    int8 = embed.load("", "int8")
    assert isinstance(int8, onnx.Int8Passages)
    assert (int8.name, int8.dim, int8.precision) == ("all-MiniLM-L6-v2", 384, "int8")  # one space: the model's
    assert np.array_equal(int8.encode(TEXTS), embedder.encode(TEXTS))  # questions and sentences: fp32
    passages, exact = int8.encode_passages(TEXTS), embedder.encode_passages(TEXTS)
    cosines = (passages * exact).sum(axis=1)
    assert not np.allclose(passages, exact, atol=1e-4)  # the int8 file did the paragraphs
    assert float(cosines.min()) >= MIN_COSINE and float(cosines.mean()) >= MEAN_COSINE


def test_an_index_built_at_either_precision_is_searched_by_the_other(tmp_path: Path, seeds_index: Path,
                                                                     embedder: embed.Embedder) -> None:
    int8 = embed.load("", "int8")
    assert index.status(SEEDS, seeds_index, int8.name) == "fresh"  # built at fp32: not rebuilt for int8
    report = index.build(SEEDS, tmp_path / "ix", int8)
    made = json.loads((report.path / "manifest.json").read_text(encoding="utf-8"))
    assert (made["model"], made["precision"]) == ("all-MiniLM-L6-v2", "int8")
    ix, exact = index.load(tmp_path / "ix", embedder.name, embedder.dim), index.load(seeds_index, embedder.name)
    assert [p.id for p in ix.paragraphs] == [p.id for p in exact.paragraphs]
    assert float((ix.vectors * exact.vectors).sum(axis=1).min()) >= MIN_COSINE
    question = embedder.encode(["Who asked the CSTO to send troops?"])[0]
    assert int(np.argmax(ix.vectors @ question)) == int(np.argmax(exact.vectors @ question))
    again = index.build(SEEDS, tmp_path / "ix", embedder)  # at fp32: the int8 build's vectors are kept
    assert again.reused == again.paragraphs and again.embedded == 0


def test_an_unknown_precision_is_refused_and_another_model_is_used_as_it_is(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="RAG_EMBED_PRECISION is one of fp32, int8"):
        embed.load("", "int4")
    with pytest.raises(RagError, match=f"no sentence-transformers model in {tmp_path}"):
        embed.load(str(tmp_path), "int8")  # int8 is the bundled model's: a folder of one's own loads at fp32


def test_without_the_int8_file_paragraphs_are_indexed_at_fp32(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(fp32: Path, out: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(onnx, "current", lambda model, *a, **k: "-int8" not in model.name and onnx_current(model, *a, **k))
    monkeypatch.setattr(export, "quantize", broken)
    found = onnx.load(onnx.BUNDLED, embed.bundled_model_path(), precision="int8")
    assert isinstance(found, onnx.OnnxEmbedder) and found.precision == "fp32"
    assert "indexing at fp32" in caplog.text
