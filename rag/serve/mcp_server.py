"""The corpus for MCP clients (agents, editors): tools and document resources, on stdio (`rag mcp`) or over
streamable HTTP at /mcp of `rag serve`.

Tools: `search`, `ask` (the verified answer, its citations as structured content), `check` (any text, sentence
by sentence), `get_source` (a paragraph by id) and `list_documents`. Each document is a resource,
`rag://documents/<name>`. A RagError is an MCP error carrying the product's one-line message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from pydantic import AnyUrl

from rag import errors
from rag.answer import check as check_mod
from rag.answer.retrieve import Filter
from rag.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from mcp.server.fastmcp import FastMCP
    from mcp.types import Resource
    from starlette.types import Receive, Scope, Send

    from rag.answer.pipeline import Pipeline

URI = "rag://documents/{name}"
INSTRUCTIONS = ("Answers from a news corpus. `ask` gives an answer whose every sentence cites a verbatim quote "
                "([n] markers name the citations); `search` finds passages; `check` verifies any text against the corpus.")


def build(s: Settings, pipeline: Callable[[], Pipeline]) -> FastMCP:
    """The MCP server; `pipeline` gives the pipeline at call time, since `rag serve` loads it after startup."""
    from mcp.server.fastmcp import FastMCP

    class Server(FastMCP):
        async def list_resources(self) -> list[Resource]:
            return await _documents(pipeline())

    server = Server("rag", instructions=INSTRUCTIONS, streamable_http_path="/mcp", stateless_http=True,
                    json_response=True, log_level="WARNING")
    _tools(server, s, pipeline)
    _corpus_tools(server, pipeline)

    @server.resource(URI, name="document", mime_type="text/plain", description="A document's title, date and text.")
    async def document(name: str) -> str:
        return _document_text(pipeline(), name)

    return server


def _tools(server: FastMCP, s: Settings, pipeline: Callable[[], Pipeline]) -> None:
    @server.tool()
    async def search(question: str, k: int | None = None, date_from: str | None = None, date_to: str | None = None,
                     sources: list[str] | None = None) -> dict[str, Any]:
        """The passages most relevant to a question, best first; `k` of them (default 5). Optional filters:
        `date_from`, `date_to` (YYYY-MM-DD, publication dates) and `sources` (document names or glob patterns)."""
        hits = await _run(pipeline().search, question, k, Filter.of(date_from, date_to, sources) or None)
        return {"question": question, "hits": [h.public() for h in hits]}

    @server.tool()
    async def ask(question: str, history: list[dict[str, str]] | None = None, k: int | None = None,
                  date_from: str | None = None, date_to: str | None = None, sources: list[str] | None = None) -> dict[str, Any]:
        """Answer a question from the corpus: every sentence carries [n] markers naming `citations`, each a
        verbatim quote checked against its paragraph; `refused` when the corpus does not hold the answer.
        `history`: earlier turns ({"role": "user" | "assistant", "content": ...}), oldest first. Filters as `search`'s."""
        filters = Filter.of(date_from, date_to, sources) or None
        answer = await _run(lambda: pipeline().ask(question, history, k, filters=filters))
        keep = ("question", "answer", "refused", "citations", "short_answer", "standalone_question", "notes", "generator")
        return {name: value for name, value in answer.to_dict().items() if name in keep}

    @server.tool()
    async def check(text: str, k: int | None = None, date_from: str | None = None, date_to: str | None = None,
                    sources: list[str] | None = None) -> dict[str, Any]:
        """Check any text against the corpus, sentence by sentence: each sentence's verdict and the quotes that
        support it. Filters as `search`'s."""
        filters = Filter.of(date_from, date_to, sources) or None
        return (await _run(check_mod.check, pipeline(), text, k, filters)).to_dict()


def _corpus_tools(server: FastMCP, pipeline: Callable[[], Pipeline]) -> None:
    @server.tool()
    async def get_source(id: str) -> dict[str, Any]:
        """One paragraph by id, as citations give it, e.g. `001_4e18fd9c259265ac.txt#p5`."""
        p = pipeline().retriever.index.by_id.get(id)
        if p is None:
            raise errors.NotFound(f"no paragraph with id {id!r}: ids look like <file>#p<n>, as citations give them")
        return asdict(p)

    @server.tool()
    async def list_documents() -> dict[str, Any]:
        """The indexed documents with their titles and dates, in name order."""
        ix = pipeline().retriever.index
        return {"documents": [{"name": name, "title": ps[0].title, "date": ix.documents.get(name, {}).get("date", ""),
                               "paragraphs": len(ps)} for name, ps in sorted(ix.by_source.items())]}


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    """A pipeline call off the event loop, so that one slow answer does not hold up the other clients."""
    return await to_thread.run_sync(lambda: fn(*args))


async def _documents(p: Pipeline) -> list[Resource]:
    from mcp.types import Resource

    ix = p.retriever.index
    return [Resource(uri=AnyUrl(URI.format(name=name)), name=name, title=ps[0].title, mimeType="text/plain",
                     description=ix.documents.get(name, {}).get("date") or None)
            for name, ps in sorted(ix.by_source.items())]


def _document_text(p: Pipeline, name: str) -> str:
    paragraphs = p.retriever.index.by_source.get(name, [])
    if not paragraphs:
        raise errors.NotFound(f"no document named {name!r}: citations name documents by their `source`")
    date = p.retriever.index.documents.get(name, {}).get("date", "")
    head = paragraphs[0].title + (f" ({date})" if date else "")
    return "\n\n".join([head] + [para.text for para in paragraphs if para.kind == "text"])


def mount(app: FastAPI, s: Settings) -> None:
    """Serve the same tools at /mcp of the REST app (behind its API key). A session manager runs once, so each
    run of the app's lifespan starts a server of its own."""
    from starlette.routing import Route

    endpoint = _Endpoint()
    app.router.routes.append(Route("/mcp", endpoint=endpoint))
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        server = build(s, lambda: app.state.pipeline)
        server.streamable_http_app()  # creates its session manager
        endpoint.manager = server.session_manager
        async with server.session_manager.run(), outer(a) as state:
            yield state

    app.router.lifespan_context = lifespan


class _Endpoint:
    """The ASGI app at /mcp, handing each request to the running session manager."""

    manager: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.manager is None:
            raise errors.IndexError_("the server is starting: try again in a moment")
        await self.manager.handle_request(scope, receive, send)


def run_stdio(s: Settings) -> None:
    """Serve on stdin and stdout until the client leaves; the pipeline loads first."""
    from rag.answer import pipeline as pipeline_mod

    pipe = pipeline_mod.build(s)
    build(s, lambda: pipe).run("stdio")
