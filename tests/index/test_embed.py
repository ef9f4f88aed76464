"""The bundled embedder and the embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.errors import RagError
from rag.index import embed
from tests.conftest import FakeEmbedder


def test_bundled_model_gives_unit_vectors_that_rank_meaning(embedder: embed.Embedder) -> None:
    v = embedder.encode(["The ferry sank in the storm.", "A boat went down in bad weather.", "Bread prices rose."])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    assert embedder.encode([]).shape == (0, 384)


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="RAG_EMBED_MODEL"):
        embed.SentenceTransformerEmbedder(tmp_path, "nothing")


class Counting(FakeEmbedder):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.seen += texts
        return super().encode(texts)


def test_cache_embeds_each_text_once_and_stays_bounded() -> None:
    inner = Counting()
    cached = embed.Cached(inner, size=2)
    first = cached(["a cat", "a dog", "a cat"])
    assert inner.seen == ["a cat", "a dog"] and np.array_equal(first[0], first[2])
    cached(["a dog"])
    assert inner.seen == ["a cat", "a dog"]
    cached(["a bird"])  # evicts the oldest
    cached(["a cat"])
    assert inner.seen == ["a cat", "a dog", "a bird", "a cat"]
    assert cached([]).shape == (0, inner.dim)
