"""FastAPI app: the index and models load once in the lifespan; RagError becomes an HTTP status."""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import errors
from rag.config import Settings, get_settings
from rag.pipeline import Answer, Pipeline

log = logging.getLogger("rag.api")

STATUS: dict[type[errors.RagError], int] = {
    errors.TooLarge: 413,
    errors.InputError: 422,
    errors.LLMTimeout: 504,
    errors.LLMError: 502,
    errors.IndexError_: 503,
    errors.IndexLockedError: 503,
    errors.CorpusError: 503,
}
EXAMPLE = "Units from which countries were in the CSTO force?"


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(pattern="^(user|assistant)$", examples=["user"])
    content: str = Field(examples=[EXAMPLE])


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": EXAMPLE, "k": 5}]})
    question: str = Field(min_length=1, description="The question, at most RAG_MAX_QUESTION_CHARS characters.")
    history: list[Turn] | None = Field(None, description="Earlier turns, oldest first, for follow-up questions.")
    k: int | None = Field(None, ge=1, description="Passages to retrieve (1 to RAG_MAX_K).")
    stream: bool = Field(False, description="Answer as Server-Sent Events: deltas, citations, then the whole answer.")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": EXAMPLE, "k": 5}]})
    question: str = Field(min_length=1)
    k: int = Field(5, ge=1)


class HitOut(BaseModel):
    id: str
    source: str
    start: int
    end: int
    text: str
    score: float


class SearchResponse(BaseModel):
    question: str
    hits: list[HitOut]


class Paragraph(BaseModel):
    id: str
    source: str
    title: str
    start: int
    end: int
    text: str


class DocumentOut(BaseModel):
    name: str
    title: str
    paragraphs: list[Paragraph]


class Health(BaseModel):
    status: str
    paragraphs: int
    documents: int
    model: str
    built_at: str
    generator: str


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": Problem} for c in (401, 404, 413, 422, 502, 503, 504)}


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    """The REST app; `pipeline` lets tests share one already built."""
    s = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from rag import pipeline as pipeline_mod

        app.state.pipeline = pipeline or await run_in_threadpool(pipeline_mod.build, s)
        app.state.by_id = {p.id: p for p in app.state.pipeline.retriever.index.paragraphs}
        app.state.by_source = {}
        for p in app.state.pipeline.retriever.index.paragraphs:
            app.state.by_source.setdefault(p.source, []).append(p)
        yield

    app = FastAPI(
        title="rag", version="0.1.0", lifespan=lifespan, responses=ERRORS,
        description="Answers from a news corpus where every sentence cites a verbatim quote of the paragraph it came from.",
    )
    _install_middleware(app, s)
    _install_errors(app)

    @app.post("/ask", response_model=Answer, responses={200: {"content": {"text/event-stream": {}}}})
    async def ask(body: AskRequest, request: Request) -> Any:
        """Answer a question; with `"stream": true`, as Server-Sent Events."""
        p: Pipeline = request.app.state.pipeline
        history = [t.model_dump() for t in body.history] if body.history else None
        answer = await run_in_threadpool(p.ask, body.question, history, body.k)
        request.state.timings = answer.timings_ms
        if body.stream:
            return StreamingResponse(_events(answer), media_type="text/event-stream")
        return answer

    @app.post("/search", response_model=SearchResponse)
    async def search(body: SearchRequest, request: Request) -> Any:
        """The passages most relevant to a question, best first."""
        hits = await run_in_threadpool(request.app.state.pipeline.search, body.question, body.k)
        return {"question": body.question, "hits": [h.public() for h in hits]}

    @app.get("/sources/{id:path}", response_model=Paragraph)
    async def source(id: str, request: Request) -> Any:
        """One paragraph by id, e.g. `001_4e18fd9c259265ac.txt#p5` (write `#` as `%23`)."""
        p = request.app.state.by_id.get(id)
        if p is None:
            return JSONResponse({"detail": f"no paragraph with id {id!r}"}, status_code=404)
        return asdict(p)

    @app.get("/documents/{name:path}", response_model=DocumentOut)
    async def document(name: str, request: Request) -> Any:
        """A document's title and paragraphs."""
        paragraphs = [asdict(p) for p in request.app.state.by_source.get(name, [])]
        if not paragraphs:
            return JSONResponse({"detail": f"no document named {name!r}"}, status_code=404)
        return {"name": name, "title": paragraphs[0]["title"], "paragraphs": paragraphs}

    @app.get("/health", response_model=Health)
    async def health(request: Request) -> Any:
        """Liveness, what the index holds and which generator answers."""
        p: Pipeline = request.app.state.pipeline
        m = p.retriever.index.manifest
        return {
            "status": "ok", "paragraphs": m["paragraphs"], "documents": m["documents"], "model": m["model"],
            "built_at": m["built_at"], "generator": p.generator.name,
        }

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_limits(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            ), s)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _with_limits(schema: dict[str, Any], s: Settings) -> dict[str, Any]:
    """The configured input limits written into the published schema, so clients can see them."""
    parts = schema["components"]["schemas"]
    for name in ("AskRequest", "SearchRequest"):
        props = parts[name]["properties"]
        props["question"].update(maxLength=s.max_question_chars, pattern=r"\S")
        k = props["k"]
        for option in k.get("anyOf", [k]):
            if option.get("type") == "integer":
                option["maximum"] = s.max_k
    history = parts["AskRequest"]["properties"]["history"]
    for option in history.get("anyOf", [history]):
        if option.get("type") == "array":
            option["maxItems"] = s.max_history_turns
    parts["Turn"]["properties"]["content"]["maxLength"] = 4 * s.max_question_chars
    return schema


async def _events(answer: Answer) -> AsyncIterator[str]:
    """The answer as SSE: `delta` text pieces, one `citation` each, then `done` with the whole answer."""
    words = answer.answer.split(" ")
    for i in range(0, len(words), 4):
        piece = " ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else "")
        yield _sse("delta", {"text": piece})
    for c in answer.citations:
        yield _sse("citation", asdict(c))
    yield _sse("done", answer.to_dict())


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(errors.RagError)
    async def rag_error(request: Request, e: errors.RagError) -> JSONResponse:
        status = next((code for cls, code in STATUS.items() if isinstance(e, cls)), 500)
        return JSONResponse({"detail": str(e)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": "; ".join(_describe(x) for x in e.errors())}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": "internal error: the server log has the details"}, status_code=500)


def _describe(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    return f"{where}: {error.get('msg', 'invalid')}"


def _install_middleware(app: FastAPI, s: Settings) -> None:
    if s.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=s.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodyLimit, limit=s.max_body_bytes)

    @app.middleware("http")
    async def auth_and_log(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        t0 = time.perf_counter()
        if s.api_key and request.url.path != "/health" and not _authorised(request, s.api_key):
            response: Any = JSONResponse({"detail": "missing or wrong API key: send Authorization: Bearer <key>"},
                                         status_code=401, headers={"WWW-Authenticate": "Bearer"})
        else:
            response = await call_next(request)
        timings = getattr(request.state, "timings", None)
        log.info("%s %s %s %.1fms%s", request.method, request.url.path, response.status_code,
                 (time.perf_counter() - t0) * 1000, f" stages={timings}" if timings else "")
        return response


def _authorised(request: Request, key: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    return hmac.compare_digest(token.strip().encode(), key.encode()) and scheme.lower() == "bearer"


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            await _too_large(scope, receive, send, self.limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise errors.TooLarge(f"the request body is over {self.limit} bytes")
            return message

        await self.app(scope, limited, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse({"detail": f"the request body is over {limit} bytes"}, status_code=413)
    await response(scope, receive, send)
