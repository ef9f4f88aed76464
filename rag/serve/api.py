"""FastAPI app: the index and models load once in the lifespan; RagError becomes an HTTP status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from rag import errors
from rag.answer.pipeline import Answer, Pipeline
from rag.config import Settings, get_settings
from rag.ingest import adding, readers
from rag.serve import bodies, checking, mcp_server, middleware, openai_compat, streaming

STATIC = Path(__file__).parent / "web"


class HitOut(BaseModel):
    id: str
    source: str
    start: int
    end: int
    text: str
    score: float
    page: int = 0


class SearchResponse(BaseModel):
    question: str
    hits: list[HitOut]


class ParagraphOut(BaseModel):
    id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    kind: str = "text"
    page: int = 0


class DocumentOut(BaseModel):
    name: str
    title: str
    date: str = ""
    url: str = ""
    paragraphs: list[ParagraphOut]


class DocumentSummary(BaseModel):
    name: str
    title: str
    date: str = ""
    paragraphs: int


class DocumentList(BaseModel):
    documents: list[DocumentSummary]


class AddedOut(BaseModel):
    name: str
    title: str
    paragraphs: int
    date: str


class RemovedOut(BaseModel):
    removed: str


class Health(BaseModel):
    status: str
    paragraphs: int
    documents: int
    model: str
    built_at: str
    generator: str


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    """The REST app; `pipeline` lets tests share one already built."""
    s = settings or get_settings()
    app = FastAPI(
        title="rag", version="0.1.0", lifespan=_lifespan(s, pipeline), responses=middleware.ERRORS,
        description="Answers from a news corpus where every sentence cites a verbatim quote of the paragraph it came from.",
    )
    middleware.install(app, s)
    middleware.install_errors(app)
    _answer_routes(app, *bodies.request_models(s))
    checking.routes(app, s)
    openai_compat.routes(app, s)
    mcp_server.mount(app, s)
    _corpus_routes(app)
    _ingest_routes(app, s)
    _page_routes(app)
    return app


def _lifespan(s: Settings, pipeline: Pipeline | None) -> Callable[[FastAPI], Any]:
    """Load the index and models once, before the first request."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from rag.answer import pipeline as pipeline_mod

        app.state.pipeline = pipeline or await run_in_threadpool(pipeline_mod.build, s)
        yield

    return lifespan


def _answer_routes(app: FastAPI, ask_body: type[BaseModel], search_body: type[BaseModel]) -> None:
    async def ask(body: Any, request: Request) -> Any:
        """Answer a question; with `"stream": true`, as Server-Sent Events."""
        p: Pipeline = request.app.state.pipeline
        history = [t.model_dump() for t in body.history] if body.history else None
        filters = body.filters()
        if body.stream:
            p.check(body.question, history, p.settings.k if body.k is None else body.k)  # bad input: 4xx, not a stream
            p.retriever.kept(filters)  # and so is a filter that keeps no document
            return StreamingResponse(streaming.stream(p, body.question, history, body.k, filters), media_type="text/event-stream")
        answer = await run_in_threadpool(lambda: p.ask(body.question, history, body.k, filters=filters))
        request.state.timings = answer.timings_ms
        return answer

    async def search(body: Any, request: Request) -> Any:
        """The passages most relevant to a question, best first."""
        hits = await run_in_threadpool(request.app.state.pipeline.search, body.question, body.k, body.filters())
        return {"question": body.question, "hits": [h.public() for h in hits]}

    ask.__annotations__["body"], search.__annotations__["body"] = ask_body, search_body  # models built from settings
    app.post("/ask", response_model=Answer, responses={200: {"content": {"text/event-stream": {}}}})(ask)
    app.post("/search", response_model=SearchResponse)(search)

    @app.get("/health", response_model=Health)
    async def health(request: Request) -> Any:
        """Liveness, what the index holds and which generator answers."""
        p: Pipeline = request.app.state.pipeline
        m = p.retriever.index.manifest
        return {
            "status": "ok", "paragraphs": m["paragraphs"], "documents": m["documents"], "model": m["model"],
            "built_at": m["built_at"], "generator": p.generator.name,
        }


def _page_routes(app: FastAPI) -> None:
    """The web page at `/`: static files inside the package, no build step, nothing from the network."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")


def _ingest_routes(app: FastAPI, s: Settings) -> None:
    limits = (f"One file per request, at most {s.max_upload_bytes:,} bytes, of type "
              f"{', '.join(readers.SUFFIXES)} (a .json file holds one document: title, text, date, url).")

    @app.post("/documents", response_model=AddedOut, status_code=201, openapi_extra={"x-limits": {
        "max_bytes": s.max_upload_bytes, "types": list(readers.SUFFIXES), "files_per_request": 1}},
        description=f"Add a document to the corpus; it is answered from as soon as this returns. {limits}")
    async def add_document(request: Request, file: UploadFile = File(description=limits)) -> Any:
        data = await file.read(s.max_upload_bytes + 1)
        p: Pipeline = request.app.state.pipeline

        def work() -> adding.Added:
            with adding.lock():
                added = adding.add(p.settings.corpus_dir, file.filename or "", data, s.max_upload_bytes)
                p.refresh()
            return added

        return asdict(await run_in_threadpool(work))

    @app.delete("/documents/{name:path}", response_model=RemovedOut)
    async def remove_document(name: str, request: Request) -> Any:
        """Remove a document from the corpus and the index."""
        p: Pipeline = request.app.state.pipeline
        if name not in p.retriever.index.documents:
            raise errors.NotFound(f"no document named {name!r}: names are as citations give them")

        def work() -> None:
            with adding.lock():
                adding.remove(p.settings.corpus_dir, name)
                p.refresh()

        await run_in_threadpool(work)
        return {"removed": name}


def _corpus_routes(app: FastAPI) -> None:
    @app.get("/documents", response_model=DocumentList)
    async def documents(request: Request) -> Any:
        """The indexed documents with their titles, in name order."""
        ix = request.app.state.pipeline.retriever.index
        by_source, meta = ix.by_source, ix.documents
        return {"documents": [{"name": name, "title": ps[0].title, "date": meta.get(name, {}).get("date", ""),
                               "paragraphs": len(ps)} for name, ps in sorted(by_source.items())]}

    @app.get("/sources/{id:path}", response_model=ParagraphOut)
    async def source(id: str, request: Request) -> Any:
        """One paragraph by id, e.g. `001_4e18fd9c259265ac.txt#p5` (write `#` as `%23`)."""
        p = request.app.state.pipeline.retriever.index.by_id.get(id)
        if p is None:
            raise errors.NotFound(f"no paragraph with id {id!r}: ids look like <file>#p<n>, as citations give them")
        return asdict(p)

    @app.get("/documents/{name:path}", response_model=DocumentOut)
    async def document(name: str, request: Request) -> Any:
        """A document's title and paragraphs."""
        paragraphs = [asdict(p) for p in request.app.state.pipeline.retriever.index.by_source.get(name, [])]
        if not paragraphs:
            raise errors.NotFound(f"no document named {name!r}: citations name documents by their `source`")
        meta = request.app.state.pipeline.retriever.index.documents.get(name, {})
        return {"name": name, "title": paragraphs[0]["title"], "date": meta.get("date", ""), "url": meta.get("url", ""),
                "paragraphs": paragraphs}
