"""The cross-encoder: a question and a sentence read together, scored by how well the sentence answers it.

Trained by `make train-cross` (train/cross.py) on SQuAD 2.0, split by article; its trained layers and their
manifest live in `rag/models/cross/`. The bundled all-MiniLM-L6-v2 with those layers reads "question [SEP]
sentence" in one pass; the score is the cosine of the mean of the question's tokens and the mean of the
sentence's tokens, and a best score under the manifest's threshold (5% false refusals on SQuAD's `head`
articles) refuses.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.answer import reader
from rag.errors import RagError
from rag.index import embed

FOLDER = Path(__file__).resolve().parent.parent / "models" / "cross"
NAME = "cross-encoder"


class Pairs(Protocol):
    def pairs(self, first: str, seconds: list[str]) -> tuple[np.ndarray, np.ndarray]: ...


def threshold(folder: Path = FOLDER) -> float:
    """The best cosine under which a question is refused when the cosine alone decides, from the manifest."""
    value = reader.manifest(folder, "cross").get("cosine_threshold")
    if not isinstance(value, float):
        raise RagError(f"the cross-encoder's manifest in {folder} has no threshold: run `make train-cross`")
    return value


def scores(model: Pairs, question: str, sentences: list[str]) -> np.ndarray:
    """The cosine of the question's and each sentence's pooled tokens, read together.

    >>> class Fake:
    ...     def pairs(self, first, seconds): return np.ones((len(seconds), 2)) / 2**0.5, np.eye(len(seconds), 2)
    >>> [round(float(x), 3) for x in scores(Fake(), "q", ["a", "b"])]
    [0.707, 0.707]
    """
    if not sentences:
        return np.zeros(0, dtype=np.float32)
    first, second = model.pairs(question, sentences)
    return np.asarray((first * second).sum(axis=1), dtype=np.float32)


@lru_cache(maxsize=2)
def encoder(folder: Path = FOLDER) -> Any:
    """The bundled model with the cross-encoder's layers through ONNX Runtime (`make export-onnx`), loaded once."""
    from rag.index import onnx

    reader.check(folder, "cross")
    exported = onnx.load(NAME, embed.bundled_model_path(), folder / "encoder.safetensors")
    if exported is None:
        raise RagError("the cross-encoder's ONNX file is missing and torch cannot make it: run `make export-onnx`")
    return exported
