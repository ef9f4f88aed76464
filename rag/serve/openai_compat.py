"""The OpenAI chat API over the pipeline: POST /v1/chat/completions (streamed or not) and GET /v1/models.

The conversation's last user message is the question and the earlier turns its history. The reply's content
is the verified answer with its [n] markers and a markdown list of its sources; the structured citations ride
along in `citations`, at the top level and in the message:

    >>> sources_markdown([{"marker": 1, "source": "a.txt", "date": "2022-01-06", "quote": "It rained."}])
    '\\n\\n**Sources**\\n\\n- [1] a.txt (2022-01-06): "It rained."'
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from rag import errors
from rag.answer.pipeline import Answer, Pipeline
from rag.answer.retrieve import Filter
from rag.answer.verify import Citation
from rag.config import Settings
from rag.serve import middleware
from rag.serve.bodies import Filtered

log = logging.getLogger("rag.api")

MODEL = "rag"
QUOTE_CHARS = 300  # a longer quote is cut in the sources list; `citations` keeps it whole


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    error: ErrorBody


class Part(BaseModel):
    type: str = Field("text", max_length=64)
    text: str = Field("", max_length=1_000_000)


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[Part] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(Filtered):
    """An OpenAI chat request; the product's filters (`date_from`, `date_to`, `sources`) ride along as extra fields
    (the `openai` client's `extra_body`)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"model": MODEL, "messages": [{"role": "user", "content": "Units from which countries were in the CSTO force?"}]}]})
    model: str = Field(MODEL, max_length=200, description="Any name: one pipeline answers (GET /v1/models lists it).")
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False


class ReplyMessage(BaseModel):
    role: str
    content: str
    citations: list[Citation]


class Choice(BaseModel):
    index: int
    message: ReplyMessage
    finish_reason: str


class Completion(BaseModel):
    id: str
    object: str
    created: int
    model: str
    choices: list[Choice]
    usage: dict[str, int]
    citations: list[Citation]
    refused: bool


class ModelCard(BaseModel):
    id: str
    object: str
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: str
    data: list[ModelCard]


def error_body(message: str, status: int) -> dict[str, Any]:
    """An OpenAI-style error body carrying the product's one-line message."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    kind = "authentication_error" if status == 401 else "not_found_error" if status == 404 else kind
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class OpenAIRoute(APIRoute):
    """A route whose errors are OpenAI-shaped, so that an OpenAI client shows the message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as e:
                return JSONResponse(error_body(middleware.describe(e), 422), status_code=422)
            except errors.RagError as e:
                status = middleware.status_of(e)
                return JSONResponse(error_body(str(e), status), status_code=status)

        return handler


def routes(app: FastAPI, s: Settings) -> None:
    """Add /v1/chat/completions and /v1/models."""
    router = APIRouter(prefix="/v1", route_class=OpenAIRoute, tags=["openai"],
                       responses={c: {"model": OpenAIError} for c in middleware.ERRORS})

    @router.post("/chat/completions", response_model=Completion, responses={200: {"content": {"text/event-stream": {}}}})
    async def chat(body: ChatRequest, request: Request) -> Any:
        """The verified answer to the last user message, as an OpenAI chat completion; with `"stream": true`,
        as `chat.completion.chunk` Server-Sent Events."""
        p: Pipeline = request.app.state.pipeline
        question, history = conversation(body.messages, s)
        p.check(question, history, p.settings.k)  # bad input: 4xx before any stream
        filters = body.filters()
        p.retriever.kept(filters)  # and so is a filter that keeps no document
        if body.stream:
            return StreamingResponse(_stream(p, question, history, body.model, filters), media_type="text/event-stream")
        answer = await run_in_threadpool(lambda: p.ask(question, history, filters=filters))
        request.state.timings = answer.timings_ms
        return completion(answer, body.model)

    @router.get("/models", response_model=ModelList)
    async def models() -> Any:
        """The one model name this server answers to (any other name is answered the same)."""
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "rag"}]}

    app.include_router(router)


def conversation(messages: list[ChatMessage], s: Settings) -> tuple[str, list[dict[str, str]]]:
    """The last user message and the user and assistant turns before it. Only the most recent turns are kept,
    each cut to the turn limit, since a chat UI resends the whole conversation and earlier replies carry sources."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise errors.InputError("the conversation must end with a user message: it is the question")
    earlier = turns[:-1][-s.max_history_turns:] if s.max_history_turns else []
    return turns[-1].text(), [{"role": t.role, "content": t.text()[: s.max_turn_chars]} for t in earlier]


def sources_markdown(citations: list[dict[str, Any]]) -> str:
    """The citations as a markdown list under a "Sources" heading; empty without citations."""
    if not citations:
        return ""
    lines = []
    for c in citations:
        quote = " ".join(c["quote"].split())
        quote = quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1].rstrip() + "…"
        date = f" ({c['date']})" if c.get("date") else ""
        lines.append(f'- [{c["marker"]}] {c["source"]}{date}: "{quote}"')
    return "\n\n**Sources**\n\n" + "\n".join(lines)


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """A whole chat completion for an answer."""
    cited = [asdict(c) for c in answer.citations]
    content = answer.answer + sources_markdown(cited)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "citations": cited},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": cited, "refused": answer.refused,
    }


async def _stream(p: Pipeline, question: str, history: list[dict[str, str]], model: str,
                  filters: Filter | None = None) -> AsyncIterator[str]:
    """The answer as chunks. Only the verified answer is sent: a chat UI cannot take back a draft's sentence
    that verification drops, so the chunks start once the answer is checked. A failure is an `error` event."""
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model}
    yield _chunk(head, {"role": "assistant", "content": ""})
    try:
        answer = await run_in_threadpool(lambda: p.ask(question, history, filters=filters))
    except errors.RagError as e:
        yield f"data: {json.dumps(error_body(str(e), middleware.status_of(e)), ensure_ascii=False)}\n\n"
        return
    except Exception:
        log.exception("unexpected error while streaming a chat completion")
        yield f"data: {json.dumps(error_body('internal error: the server log has the details', 500))}\n\n"
        return
    cited = [asdict(c) for c in answer.citations]
    yield _chunk(head, {"content": answer.answer})
    if cited:
        yield _chunk(head, {"content": sources_markdown(cited)})
    yield _chunk(head | {"citations": cited, "refused": answer.refused}, {}, "stop")
    yield "data: [DONE]\n\n"


def _chunk(head: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> str:
    body = head | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
