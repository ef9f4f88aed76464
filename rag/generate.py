"""What every generator shares: the draft it returns, the protocol it follows, the refusal it gives.

`extractive.Extractive` is the offline default: it answers with the corpus's own sentences.
`llm.OpenAICompatible` asks any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.retrieve import Hit

REFUSAL = "The corpus does not contain the answer to this question."


@dataclass(frozen=True)
class Draft:
    text: str  # sentences, each followed by [n] markers naming passages 1..len(hits)
    refused: bool
    generator: str


class Generator(Protocol):
    name: str

    def generate(self, question: str, parts: Sequence[str], hits: list[Hit]) -> Draft:
        """A draft answer to `question` (asked in `parts`) from `hits`, or a refusal."""
        ...
