"""What every generator shares: the draft it returns, the protocol it follows, the refusal it gives.

`extractive.Extractive` is the offline default: it answers with the corpus's own sentences.
`llm.OpenAICompatible` asks any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.answer.retrieve import Hit
from rag.errors import LLMError

REFUSAL = "The corpus does not contain the answer to this question."


@dataclass(frozen=True)
class Draft:
    text: str  # sentences, each followed by [n] markers naming passages 1..len(hits)
    refused: bool
    generator: str
    verbatim: str = ""  # corpus sentences with markers, to answer with when `text` does not verify


OnToken = Callable[[str], None]  # receives the draft's text piece by piece as it is generated
OnDraft = Callable[["Draft"], None]  # receives the offline ranker's answer, before a model writes its own


class Generator(Protocol):
    name: str

    def generate(self, question: str, parts: Sequence[str], hits: list[Hit], on_token: OnToken | None = None,
                 on_offline: OnDraft | None = None) -> Draft:
        """A draft answer to `question` (asked in `parts`) from `hits`, or a refusal; pieces go to `on_token`.

        A model reading the offline ranker's choice hands that choice to `on_offline` first, so it can be shown
        while the model writes."""
        ...


class Unavailable:
    """A generator that could not start: every call fails with why, so that a fallback (if any) answers."""

    def __init__(self, name: str, error: LLMError) -> None:
        self.name, self.error = name, error

    def generate(self, question: str, parts: Sequence[str], hits: list[Hit], on_token: OnToken | None = None,
                 on_offline: OnDraft | None = None) -> Draft:
        raise self.error
