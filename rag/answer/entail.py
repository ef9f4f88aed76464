"""The consistency model: a claim and the sentence it cites read together, scored by whether the sentence states it.

Trained by `make train-entail` (train/entail.py) on claims made from SQuAD 2.0 sentences, true and false
(train/claims.py), split by article; its layers and manifest live in `rag/models/entail/`. It is the
cross-encoder's architecture over the bundled all-MiniLM-L6-v2: "claim [SEP] sentence" in one pass, the
cosine of the two halves' pooled tokens, and the claim accepted at or above the manifest's threshold (which
keeps 97% of the true claims of SQuAD's `head` articles). RAG_VERIFY=entail decides with it where the hand
rules decide by default; the checks that stay (cosine, coverage, numbers and names present) come first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.answer import cross, reader
from rag.errors import RagError
from rag.index import embed

FOLDER = Path(__file__).resolve().parent.parent / "models" / "entail"
NAME = "entail-encoder"


@lru_cache(maxsize=2)
def threshold(folder: Path = FOLDER) -> float:
    value = reader.manifest(folder, "entail").get("cosine_threshold")
    if not isinstance(value, float):
        raise RagError(f"the consistency model's manifest in {folder} has no threshold: run `make train-entail`")
    return value


@lru_cache(maxsize=2)
def encoder(folder: Path = FOLDER) -> Any:
    """The bundled model with the consistency model's layers through ONNX Runtime (`make export-onnx`), loaded once."""
    from rag.index import onnx

    reader.check(folder, "entail")
    exported = onnx.load(NAME, embed.bundled_model_path(), folder / "encoder.safetensors")
    if exported is None:
        raise RagError("the consistency model's ONNX file is missing and torch cannot make it: run `make export-onnx`")
    return exported


def score(claim: str, sentence: str, folder: Path = FOLDER) -> float:
    return float(cross.scores(encoder(folder), claim, [sentence])[0])


def states(claim: str, sentence: str, folder: Path = FOLDER) -> bool:
    """Whether `sentence` states `claim`, by the model."""
    return score(claim, sentence, folder) >= threshold(folder)
