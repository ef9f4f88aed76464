"""POST /check: any text checked against the corpus, sentence by sentence (the same check as `rag check`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from rag.answer import check
from rag.answer.verify import Citation
from rag.config import Settings
from rag.serve import bodies


class SentenceOut(BaseModel):
    text: str
    start: int
    end: int
    supported: bool
    citations: list[Citation]
    notes: list[str]


class CheckResponse(BaseModel):
    text: str
    sentences: list[SentenceOut]


def routes(app: FastAPI, s: Settings) -> None:
    """Add POST /check, its body's limit taken from the settings so that the schema publishes it."""

    CheckRequest = bodies.check_model(s)

    async def check_text(body: Any, request: Request) -> Any:
        """Each sentence of a text with its verdict and the passages that support it."""
        checked = await run_in_threadpool(check.check, request.app.state.pipeline, body.text, body.k, body.filters())
        return checked.to_dict()

    check_text.__annotations__["body"] = CheckRequest
    app.post("/check", response_model=CheckResponse)(check_text)
