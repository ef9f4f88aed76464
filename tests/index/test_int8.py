"""The int8 embedder (RAG_EMBED_PRECISION=int8): close to fp32's vectors, and never mixed with them in an index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import index
from rag.errors import IndexError_, RagError
from rag.index import embed, export, onnx
from tests.conftest import SEEDS
from tests.index.test_onnx import TEXTS

# Measured: per-channel int8 vectors have cosine >= 0.988 to fp32's on 384 SciFact paragraphs (mean 0.994); on TEXTS
# 0.971 for the empty text, >= 0.982 for the others (mean 0.990). One scale per tensor falls to 0.89 on SciFact.
MIN_COSINE, MEAN_COSINE = 0.96, 0.985


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


def test_the_int8_embedder_has_its_own_name() -> None:
    int8 = embed.load("", "int8")
    assert isinstance(int8, onnx.OnnxEmbedder)
    assert (int8.name, int8.dim) == ("all-MiniLM-L6-v2-int8", 384)


def test_an_index_built_in_fp32_is_rebuilt_or_refused_in_int8(seeds_index: Path) -> None:
    int8 = embed.load("", "int8")
    assert index.status(SEEDS, seeds_index, int8.name) == "stale"  # auto_index rebuilds it
    with pytest.raises(IndexError_, match=r"built with all-MiniLM-L6-v2 \(384-d\), not all-MiniLM-L6-v2-int8.*rebuild"):
        index.load(seeds_index, int8.name, int8.dim)


def test_an_unknown_precision_or_int8_of_another_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="RAG_EMBED_PRECISION is one of fp32, int8"):
        embed.load("", "int4")
    with pytest.raises(RagError, match="bundled model only"):
        embed.load(str(tmp_path), "int8")
