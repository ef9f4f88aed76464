"""The consistency model: a claim and the sentence it cites read together, scored by whether the sentence states it.

Trained by `make train-entail` (train/entail.py) on claims made from SQuAD 2.0 sentences, true and false
(train/claims.py), and on the local model's restatements of them, split by article; its weights and manifest
live in `rag/models/entail/`: low-rank updates of every layer of the bundled all-MiniLM-L6-v2 (merged into the
exported ONNX file at setup) and a classifier over the two halves' pooled tokens: a logistic of their
cosine plus a small network over (a, b, a*b, |a-b|) and the first token's state. RAG_VERIFY=entail
decides with it where the hand rules decide by default; the checks that stay (numbers and names present)
come first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer import reader
from rag.errors import RagError
from rag.index import embed

FOLDER = Path(__file__).resolve().parent.parent / "models" / "entail"
NAME = "entail-encoder"
WEIGHTS = "encoder.safetensors"


@lru_cache(maxsize=2)
def threshold(folder: Path = FOLDER) -> float:
    value = reader.manifest(folder, "entail").get("threshold")
    if not isinstance(value, float):
        raise RagError(f"the consistency model's manifest in {folder} has no threshold: run `make train-entail`")
    return value


@lru_cache(maxsize=2)
def _classifier(folder: Path = FOLDER) -> tuple[np.ndarray, ...]:
    from safetensors.numpy import load_file

    w = load_file(str(folder / WEIGHTS))
    try:
        return tuple(w[f"head.{k}"].astype(np.float32) for k in ("scale", "bias", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"))
    except KeyError as e:
        raise RagError(f"the consistency model in {folder} has no classifier ({e}): run `make train-entail`") from e


@lru_cache(maxsize=2)
def encoder(folder: Path = FOLDER) -> Any:
    """The bundled model with the consistency model's updates through ONNX Runtime (`make export-onnx`), loaded once."""
    from rag.index import onnx

    reader.check(folder, "entail")
    exported = onnx.load(NAME, embed.bundled_model_path(), folder / WEIGHTS)
    if exported is None:
        raise RagError("the consistency model's ONNX file is missing and torch cannot make it: run `make export-onnx`")
    return exported


def probabilities(claim: str, sources: list[str], folder: Path = FOLDER) -> np.ndarray:
    """For each of `sources`, the probability that it states `claim`."""
    if not sources:
        return np.zeros(0, dtype=np.float32)
    a, b, first = encoder(folder).joint(claim, sources)
    scale, bias, w1, b1, w2, b2 = _classifier(folder)
    hidden = np.tanh(np.concatenate([a, b, a * b, np.abs(a - b), first], axis=1) @ w1.T + b1)
    logit = scale * (a * b).sum(axis=1) + bias + (hidden @ w2.T + b2)[:, 0]
    return 1 / (1 + np.exp(-logit))


def states(claim: str, source: str, folder: Path = FOLDER) -> bool:
    """Whether `source` states `claim`, by the model."""
    return bool(probabilities(claim, [source], folder)[0] >= threshold(folder))
