"""The HTTP edges of the app: RagError to status codes, the API key, request logging, the body size limit."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import errors
from rag.config import Settings

log = logging.getLogger("rag.api")

STATUS: dict[type[errors.RagError], int] = {
    errors.TooLarge: 413,
    errors.InputError: 422,
    errors.NotFound: 404,
    errors.LLMTimeout: 504,
    errors.LLMError: 502,
    errors.StoreError: 502,
    errors.IndexError_: 503,
    errors.IndexLockedError: 503,
    errors.CorpusError: 503,
}
PUBLIC = ("/health", "/")  # and /static/: reachable without the API key, since the page asks for the key itself


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": Problem} for c in (401, 404, 413, 422, 502, 503, 504)}  # as /docs lists them


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(errors.RagError)
    async def rag_error(request: Request, e: errors.RagError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=status_of(e))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": describe(e)}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": "internal error: the server log has the details"}, status_code=500)


def status_of(e: errors.RagError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(e, cls)), 500)


def describe(e: RequestValidationError) -> str:
    """A request's validation errors as one line."""
    return "; ".join(_describe(x) for x in e.errors())


def problem(path: str, message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """An error body: OpenAI's shape under /v1/, where OpenAI clients read it, `detail` elsewhere."""
    return {"error": {"message": message, "type": kind}} if path.startswith("/v1/") else {"detail": message}


def _describe(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    if error.get("type") == "string_pattern_mismatch":
        return f"{where}: is empty (only white space): ask something"
    return f"{where}: {error.get('msg', 'invalid')}"


def install(app: FastAPI, s: Settings) -> None:
    if s.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=s.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodyLimit, limit=s.max_body_bytes, uploads=s.max_upload_bytes + 64 * 1024)

    @app.middleware("http")
    async def auth_and_log(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        t0 = time.perf_counter()
        path = request.url.path
        public = path in PUBLIC or path.startswith("/static/")
        if s.api_key and not public and not _authorised(request, s.api_key):
            response: Any = JSONResponse(problem(path, "missing or wrong API key: send Authorization: Bearer <key>", "authentication_error"),
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

    def __init__(self, app: ASGIApp, limit: int, uploads: int | None = None) -> None:
        self.app, self.default, self.uploads = app, limit, uploads or limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope.get("method") == "POST" and scope.get("path") == "/documents"
        limit = self.uploads if upload else self.default
        length = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > limit:
            await _too_large(scope, receive, send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise errors.TooLarge(f"the request body is over {limit} bytes")
            return message

        await self.app(scope, limited, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse(problem(scope.get("path", ""), f"the request body is over {limit} bytes"), status_code=413)
    await response(scope, receive, send)
