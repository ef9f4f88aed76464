"""The OpenAI-compatible client, and design (a): a free answer over the numbered passages.

`OpenAICompatible` talks to any chat completions server (OpenAI, vLLM, Ollama, llama.cpp's own
server that `rag.answer.local_server` starts) through the openai client, streaming when asked. The evidence-first
designs that build on it are in `rag.answer.designs`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag import text as T
from rag.answer import prompts
from rag.answer.generate import REFUSAL, Draft, OnDraft, OnToken
from rag.answer.retrieve import Hit
from rag.errors import LLMBadResponse, LLMError, LLMTimeout


class OpenAICompatible:
    """Any OpenAI-compatible chat completions server, through the openai client."""

    def __init__(
        self, model: str, prompts_dir: Path, base_url: str = "", api_key: str = "",
        timeout: float = 30.0, retries: int = 2, name: str = "", max_tokens: int | None = None,
    ) -> None:
        import openai

        self.name = name or f"openai:{model}"
        self.max_tokens = max_tokens
        self._spent = threading.local()  # llama.cpp's own prompt and generation times, per thread
        self.model, self.prompts_dir = model, prompts_dir
        self.client = openai.OpenAI(
            base_url=base_url or None, api_key=api_key or "not-needed", timeout=timeout, max_retries=retries
        )

    def messages(self, question: str, hits: list[Hit]) -> list[dict[str, str]]:
        """The chat messages sent for `question`: fenced, numbered passages and the rules."""
        passages = "\n\n".join(
            prompts.render(
                self.prompts_dir, "passage", n=n, source=h.paragraph.source, title=prompts.quote(h.paragraph.title),
                text=prompts.quote(h.paragraph.text),
            )
            for n, h in enumerate(hits, 1)
        )
        return [
            {"role": "system", "content": prompts.render(self.prompts_dir, "system", refusal=REFUSAL)},
            {"role": "user", "content": prompts.render(self.prompts_dir, "answer", passages=passages, question=question)},
        ]

    def generate(self, question: str, parts: Sequence[str], hits: list[Hit], on_token: OnToken | None = None,
                 on_offline: OnDraft | None = None) -> Draft:
        if not hits:
            return Draft(REFUSAL, True, self.name)
        reply = self.complete(self.messages(question, hits), on_token)
        refused = is_refusal(reply)
        return Draft(REFUSAL if refused else reply.strip(), refused, self.name)

    def complete(self, messages: list[dict[str, str]], on_token: OnToken | None = None, max_tokens: int | None = None) -> str:
        """One chat completion, streamed to `on_token` when given; every failure becomes an LLMError with a message."""
        import httpx
        import openai

        options: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": 0}
        if max_tokens or self.max_tokens:
            options["max_tokens"] = max_tokens or self.max_tokens
        try:
            if on_token is not None:
                return self._stream(options, on_token)
            response = self.client.chat.completions.create(**options)
        except openai.APITimeoutError as e:
            raise LLMTimeout(f"the language model server did not answer in time ({e})") from e
        except openai.APIConnectionError as e:
            raise LLMError(f"the language model server cannot be reached: check OPENAI_BASE_URL ({e})") from e
        except openai.APIStatusError as e:
            raise LLMError(f"the language model server answered HTTP {e.status_code}: {_short(e.message)}") from e
        except httpx.HTTPError as e:  # raised while reading a stream, which the openai client does not wrap
            raise LLMError(f"the language model server stopped in the middle of an answer ({_short(str(e))})") from e
        except (openai.APIError, ValueError, TypeError) as e:
            raise LLMBadResponse(f"the language model server sent a reply that cannot be read: {_short(str(e))}") from e
        self._add_timings(response)
        choices = getattr(response, "choices", None)
        if not choices or not isinstance(getattr(choices[0].message, "content", None), str):
            raise LLMBadResponse("the language model server sent a reply with no answer in it")
        return str(choices[0].message.content)

    def take_timings(self) -> dict[str, float]:
        """Milliseconds the server reported spending on prompt evaluation and generation since the last call
        in this thread (llama.cpp reports them; other servers do not, and this is empty)."""
        spent = getattr(self._spent, "ms", {})
        self._spent.ms = {}
        return spent

    def _add_timings(self, response: object) -> None:
        timings = (getattr(response, "model_extra", None) or {}).get("timings")
        if isinstance(timings, dict):
            spent = getattr(self._spent, "ms", {})
            for key, name in (("prompt_ms", "prompt"), ("predicted_ms", "generation")):
                spent[name] = spent.get(name, 0.0) + float(timings.get(key) or 0.0)
            self._spent.ms = spent

    def _stream(self, options: dict[str, Any], on_token: OnToken) -> str:
        """The completion as it is generated: each piece goes to `on_token`; the whole text is returned."""
        pieces: list[str] = []
        finished = False
        for chunk in self.client.chat.completions.create(**options, stream=True):
            piece = chunk.choices[0].delta.content if chunk.choices else None
            finished = finished or bool(chunk.choices and chunk.choices[0].finish_reason)
            self._add_timings(chunk)
            if piece:
                pieces.append(piece)
                on_token(piece)
        if not finished:  # the stream ended without saying why: the server went away mid-answer
            raise LLMError("the language model server stopped in the middle of an answer (the stream ended early)")
        if not pieces:
            raise LLMBadResponse("the language model server sent a reply with no answer in it")
        return "".join(pieces)


def is_refusal(reply: str) -> bool:
    """Whether a model's reply is (or contains) the refusal sentence, or is empty.

    >>> is_refusal("The corpus does not contain the answer to this question."), is_refusal("Yes [1].")
    (True, False)
    """
    return _normalise(REFUSAL) in _normalise(reply) or not reply.strip()


def _normalise(s: str) -> str:
    return " ".join(T.words(s))


def _short(s: str) -> str:
    return s if len(s) < 200 else s[:200] + "…"
