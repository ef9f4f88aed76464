"""The OpenAI-compatible generator: any chat completions server, through the openai client."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rag import prompts
from rag import text as T
from rag.errors import LLMBadResponse, LLMError, LLMTimeout
from rag.generate import REFUSAL, Draft
from rag.retrieve import Hit


class OpenAICompatible:
    """Any OpenAI-compatible chat completions server, through the openai client."""

    def __init__(
        self, model: str, prompts_dir: Path, base_url: str = "", api_key: str = "",
        timeout: float = 30.0, retries: int = 2,
    ) -> None:
        import openai

        self.name = f"openai:{model}"
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

    def generate(self, question: str, parts: Sequence[str], hits: list[Hit]) -> Draft:
        if not hits:
            return Draft(REFUSAL, True, self.name)
        reply = self.complete(self.messages(question, hits))
        refused = _normalise(REFUSAL) in _normalise(reply) or not reply.strip()
        return Draft(REFUSAL if refused else reply.strip(), refused, self.name)

    def complete(self, messages: list[dict[str, str]]) -> str:
        """One chat completion; every failure becomes an LLMError with a message."""
        import openai

        try:
            response = self.client.chat.completions.create(model=self.model, messages=messages, temperature=0)  # type: ignore[arg-type]
        except openai.APITimeoutError as e:
            raise LLMTimeout(f"the language model server did not answer in time ({e})") from e
        except openai.APIConnectionError as e:
            raise LLMError(f"the language model server cannot be reached: check OPENAI_BASE_URL ({e})") from e
        except openai.APIStatusError as e:
            raise LLMError(f"the language model server answered HTTP {e.status_code}: {_short(e.message)}") from e
        except (openai.APIError, ValueError, TypeError) as e:
            raise LLMBadResponse(f"the language model server sent a reply that cannot be read: {_short(str(e))}") from e
        choices = getattr(response, "choices", None)
        if not choices or not isinstance(getattr(choices[0].message, "content", None), str):
            raise LLMBadResponse("the language model server sent a reply with no answer in it")
        return str(choices[0].message.content)


def _normalise(s: str) -> str:
    return " ".join(T.words(s))


def _short(s: str) -> str:
    return s if len(s) < 200 else s[:200] + "…"
