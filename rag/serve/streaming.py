"""POST /ask with `"stream": true`: the answer as Server-Sent Events.

Events, in order: with a model reading the offline ranker's choice, first one `delta` with
`"offline": true` holding that choice, already verified, with its `citations` and `claims` (shown at once, replaced by
what follows); then `delta` events with the model's draft as it is written; after verification, one
`citation` event per citation and `done` with the verified answer, which replaces the draft. The draft's
deltas alone concatenate to the answer's `draft`. A failure after the stream has begun is an `error` event.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool

from rag import errors
from rag.answer import verify as V
from rag.answer.pipeline import Pipeline
from rag.answer.retrieve import Filter

log = logging.getLogger("rag.api")


async def stream(p: Pipeline, question: str, history: list[dict[str, str]] | None, k: int | None,
                 filters: Filter | None = None) -> AsyncIterator[str]:
    """The answer to `question` as SSE text, event by event."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def on_token(piece: str) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, ("delta", {"text": piece}))

    def on_offline(v: V.Verified) -> None:
        offline = {"text": v.answer, "offline": True, "citations": [asdict(c) for c in v.citations],
                   "claims": [asdict(c) for c in v.claims]}
        loop.call_soon_threadsafe(queue.put_nowait, ("delta", offline))

    async def work() -> None:
        try:
            answer = await run_in_threadpool(p.ask, question, history, k, on_token, on_offline=on_offline, filters=filters)
            loop.call_soon_threadsafe(queue.put_nowait, ("done", answer))
        except errors.RagError as e:
            loop.call_soon_threadsafe(queue.put_nowait, ("error", str(e)))
        except Exception:
            log.exception("unexpected error while streaming an answer")
            loop.call_soon_threadsafe(queue.put_nowait, ("error", "internal error: the server log has the details"))

    task = asyncio.create_task(work())  # a client that leaves mid-answer does not cut the model off mid-request
    _working.add(task)
    task.add_done_callback(_working.discard)
    while True:
        kind, value = await queue.get()
        if kind == "delta":
            yield sse("delta", value)
            continue
        if kind == "error":
            yield sse("error", {"detail": value})
            return
        for c in value.citations:
            yield sse("citation", asdict(c))
        yield sse("done", value.to_dict())
        return


_working: set[asyncio.Task[None]] = set()  # answers being streamed, kept referenced until they finish


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
