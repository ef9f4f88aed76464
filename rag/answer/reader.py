"""The learned reader: a fine-tuned sentence encoder and a logistic head, P(a sentence answers the question).

Trained by `make train-reader` (train/reader.py) on SQuAD 2.0, split by article; the weights and
their manifest live in `rag/models/reader/`. The encoder is the bundled all-MiniLM-L6-v2 with its
six transformer layers replaced by the trained ones (its embeddings were frozen in training).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag import text as T
from rag.answer import answer_types
from rag.errors import RagError
from rag.index import embed

FOLDER = Path(__file__).resolve().parent.parent / "models" / "reader"
FEATURES = ("cosine", "overlap", "context", "fit", "missing_number", "missing_names")


@dataclass(frozen=True)
class Head:
    """A logistic regression over FEATURES, and the probability below which the best sentence is refused."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, x: Sequence[float]) -> float:
        """P(the sentence answers the question part).

        >>> Head((1.0, 0.0), 0.0, 0.5).probability([0.0, 3.0])
        0.5
        """
        z = self.bias + sum(w * v for w, v in zip(self.weights, x))
        return 1.0 / (1.0 + math.exp(-z))


def _called(model: str) -> str:
    """What a user calls the model that `make train-<model>` trains."""
    return {"cross": "cross-encoder"}.get(model, model)


def manifest(folder: Path = FOLDER, model: str = "reader") -> dict[str, object]:
    """The manifest of a trained model's folder (the reader's, or another's made by `make train-<model>`)."""
    try:
        data: dict[str, object] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RagError(f"the {_called(model)}'s manifest in {folder} cannot be read ({e}): run `make train-{model}`") from e
    return data


@lru_cache(maxsize=2)
def head(folder: Path = FOLDER, model: str = "reader") -> Head:
    """The trained head of the manifest, with its refusal threshold."""
    m = manifest(folder, model)
    fitted, threshold = m.get("head"), m.get("threshold")
    if not isinstance(fitted, dict) or not isinstance(threshold, float) or list(fitted.get("weights", {})) != list(FEATURES):
        raise RagError(f"the {_called(model)} in {folder} was trained on other features: run `make train-{model}`")
    return Head(tuple(float(fitted["weights"][f]) for f in FEATURES), float(fitted["bias"]), threshold)


def names(question: str) -> list[str]:
    """Capitalised words after the first: the names a supporting document must mention.

    >>> names("Where did Anna Berg meet the Mayor of Oslo?")
    ['Anna', 'Berg', 'Mayor', 'Oslo']
    """
    return [w for w in T.WORD.findall(question)[1:] if w[:1].isupper() and w.lower() not in T.STOPWORDS]


def missing_names(question: str, document: str) -> float:
    """Share of the question's names that the document nowhere mentions (by stem, or as an acronym)."""
    asked = names(question)
    if not asked:
        return 0.0
    have, initials = set(T.stems(document)), T.acronyms(document)
    return sum(not (set(T.stems(w)) <= have or w.lower() in initials) for w in asked) / len(asked)


def passage(part: str, paragraph: str, document: str, idf: Mapping[str, float]) -> tuple[float, float, float]:
    """The features one passage gives all its sentences: overlap with the paragraph, a number of the part missing from
    the document, the share of the part's names missing from it. Computed once a passage, not once a sentence."""
    asked = T.numbers(part)
    return (T.overlap(part, paragraph, idf), float(bool(asked) and not asked <= T.numbers(document)),
            missing_names(part, document))


def features(cosine: float, part: str, sentence: str, shared: tuple[float, float, float],
             idf: Mapping[str, float], kind: answer_types.AnswerType | None) -> list[float]:
    """The head's inputs for one sentence, in the order of FEATURES; `shared` is its passage's (`passage`)."""
    context, missing_number, missing = shared
    return [cosine, T.overlap(part, sentence, idf), context, answer_types.fit(kind, part, sentence), missing_number, missing]


def check(folder: Path = FOLDER, model: str = "reader") -> None:
    """Refuse weights that are not the ones the manifest names."""
    import hashlib

    files = manifest(folder, model).get("files")
    assert isinstance(files, dict)
    for name, digest in files.items():
        try:
            actual = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        except OSError as e:
            raise RagError(f"the {_called(model)}'s {name} is missing from {folder}: run `make train-{model}`") from e
        if actual != digest:
            raise RagError(f"the {_called(model)}'s {name} in {folder} does not match its manifest: run `make train-{model}`")


@lru_cache(maxsize=2)
def encoder(folder: Path = FOLDER) -> embed.Embedder:
    """The bundled sentence encoder with the reader's trained layers, through ONNX Runtime (`make export-onnx`;
    through torch only while that export is missing); loaded once per process."""
    from rag.index import onnx

    check(folder)
    exported = onnx.load(onnx.READER, embed.bundled_model_path(), folder / "encoder.safetensors")
    return exported or _torch_encoder(folder)


def _torch_encoder(folder: Path) -> embed.SentenceTransformerEmbedder:
    """The reader's encoder in sentence-transformers, for when its ONNX export cannot be made."""
    from safetensors.torch import load_file

    model = embed.SentenceTransformerEmbedder(embed.bundled_model_path(), "reader")
    layers = {k: v.float() for k, v in load_file(str(folder / "encoder.safetensors")).items()}
    transformer: Any = model.model[0].auto_model
    missing, unexpected = transformer.load_state_dict(layers, strict=False)
    if unexpected or any(not k.startswith("embeddings.") for k in missing):
        raise RagError(f"the reader's encoder in {folder} does not fit the bundled model: run `make train-reader`")
    return model
