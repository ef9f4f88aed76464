"""rag index | search | ask | check | chat | serve | eval — each command parses its options and calls the core."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rag import chat as chat_mod
from rag.answer.pipeline import ANSWERERS
from rag.answer.retrieve import MODES, Filter
from rag.config import Settings, get_settings
from rag.errors import InputError, RagError
from rag.evaluate import SPLITS
from rag.index.store import KINDS
from rag.serve.model_cli import model_app

app = typer.Typer(
    help="Question answering over a news corpus where every sentence cites the paragraph it came from.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out, err = chat_mod.out, chat_mod.err
app.add_typer(model_app, name="model")

Corpus = Annotated[Path | None, typer.Option("--corpus", help="Corpus: a folder of .txt/.md files, a BEIR folder (corpus.jsonl) or a JSONL file of documents (id, title, text, date, url) \\[env RAG_CORPUS_DIR; default seeds/].")]
IndexDir = Annotated[Path | None, typer.Option("--index", help="Index folder \\[env RAG_INDEX_DIR; default index/].")]
K = Annotated[int, typer.Option("-k", "--k", help="Passages to retrieve.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Since = Annotated[str | None, typer.Option("--since", help="Only documents published on or after this date (YYYY-MM-DD).")]
Until = Annotated[str | None, typer.Option("--until", help="Only documents published on or before this date (YYYY-MM-DD).")]
Sources = Annotated[list[str] | None, typer.Option("--source", metavar="<name>", help="Only this document: a name or a glob pattern (bbc-*); repeatable.")]
Llm = Annotated[str | None, typer.Option("--llm", help=f"Who answers: {', '.join(ANSWERERS)} (local: the bundled model, after `make setup-llm`; openai: OPENAI_BASE_URL) \\[env RAG_LLM; default extractive, or openai when OPENAI_* is set].")]


def settings(corpus: Path | None, index: Path | None, llm: str | None = None) -> Settings:
    """Environment settings with the command line's choices on top."""
    s = get_settings()
    update = {k: v for k, v in {"corpus_dir": corpus, "index_dir": index, "llm": llm}.items() if v is not None}
    return s.model_copy(update=update) if update else s


def fail(e: RagError) -> None:
    err.print(f"[bold red]error:[/] {e}", markup=True, highlight=False)
    raise typer.Exit(2 if isinstance(e, InputError) else 1)


@app.command("index")
def index_cmd(
    corpus: Corpus = None,
    index: IndexDir = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every dropped block, to audit the cleaning.")] = False,
    kind: Annotated[str | None, typer.Option(help=f"FAISS index: {', '.join(KINDS)} (auto: IVF above 100,000 paragraphs) \\[env RAG_INDEX_KIND].")] = None,
) -> None:
    """Build or update the index: only paragraphs whose text changed are embedded again."""
    from rag import index as index_mod
    from rag.index import embed

    s = settings(corpus, index)
    try:
        embedder = embed.load(s.embed_model, s.embed_precision)
        report = index_mod.build(
            s.corpus_dir, s.index_dir, embedder, kind or s.index_kind, progress=sys.stderr.isatty(),
            on_wait=lambda: err.print(f"another `rag index` is building {s.index_dir}; waiting for it to finish…"),
            where=index_mod.Where.of(s),
        )
    except RagError as e:
        fail(e)
    for problem in report.problems:
        err.print(f"[yellow]warning:[/] {problem}", markup=True)
    if verbose:
        for d in report.dropped:
            out.print(f"dropped {d.source} [{d.start}:{d.end}] ({d.reason}): {d.text[:100]!r}")
    out.print(
        f"indexed {report.paragraphs} paragraphs from {report.documents} documents in {report.seconds:.2f}s "
        f"({report.embedded} embedded, {report.reused} reused, {len(report.dropped)} blocks dropped) -> {report.path}"
    )


@app.command()
def search(
    question: Annotated[str, typer.Argument(help="What to look for.")],
    k: K = 5,
    as_json: Json = False,
    corpus: Corpus = None,
    index: IndexDir = None,
    since: Since = None, until: Until = None, source: Sources = None,
) -> None:
    """Show the passages most relevant to QUESTION, best first."""
    from rag.answer import pipeline

    try:
        p = pipeline.build(settings(corpus, index))
        hits = p.search(question, k, Filter.of(since, until, source) or None)
    except RagError as e:
        fail(e)
    chat_mod.hits(question, [h.public() for h in hits], as_json)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question; '-' reads one question a line from standard input.")],
    k: K = 5,
    as_json: Json = False,
    llm: Llm = None,
    corpus: Corpus = None,
    index: IndexDir = None,
    since: Since = None, until: Until = None, source: Sources = None,
) -> None:
    """Answer QUESTION from the corpus, citing a verbatim quote for every sentence, or refuse."""
    from rag.answer import pipeline

    try:
        filters = Filter.of(since, until, source) or None
        p = pipeline.build(settings(corpus, index, llm))
        # from standard input a blank line between questions is no question; an empty argument is one, and an error
        questions = (line.strip() for line in sys.stdin if line.strip()) if question == "-" else iter([question])
        for q in questions:
            chat_mod.ask(p, q, k, as_json, filters)
    except RagError as e:
        fail(e)


@app.command()
def check(
    text: Annotated[str, typer.Argument(help="The text to check; '-' reads it from standard input (blank lines and full stops end sentences).")],
    k: K = 5,
    as_json: Json = False,
    corpus: Corpus = None,
    index: IndexDir = None,
    since: Since = None, until: Until = None, source: Sources = None,
) -> None:
    """Check every sentence of TEXT against the corpus: supported, with the passages that say it, or not."""
    from rag.answer import check as check_mod
    from rag.answer import pipeline

    try:
        filters = Filter.of(since, until, source) or None
        text = sys.stdin.read() if text == "-" else text
        checked = check_mod.check(pipeline.build(settings(corpus, index)), text, k, filters)
    except RagError as e:
        fail(e)
    chat_mod.checked(checked.to_dict(), as_json)


@app.command()
def chat(k: K = 5, llm: Llm = None, corpus: Corpus = None, index: IndexDir = None,
         since: Since = None, until: Until = None, source: Sources = None) -> None:
    """Ask questions in a conversation; follow-ups ("and who led it?") use the previous turn.

    Commands: :sources shows the last answer's sources, :quit (or Ctrl-D, Ctrl-C) leaves. The filters hold for
    the whole conversation.
    """
    from rag.answer import pipeline

    try:
        filters = Filter.of(since, until, source) or None
        p = pipeline.build(settings(corpus, index, llm))
        p.retriever.kept(filters)  # a filter that keeps no document is said once, before the first question
    except RagError as e:
        fail(e)
    chat_mod.run(p, k, interactive=sys.stdin.isatty(), filters=filters)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    llm: Llm = None,
    corpus: Corpus = None,
    index: IndexDir = None,
) -> None:
    """Serve the REST API (POST /ask, POST /search, GET /sources/{id}, GET /health; docs at /docs), the OpenAI chat API at /v1 and MCP at /mcp."""
    import uvicorn

    from rag.serve import api

    uvicorn.run(api.create_app(settings(corpus, index, llm)), host=host, port=port, log_level="info")


@app.command("mcp")
def mcp_cmd(llm: Llm = None, corpus: Corpus = None, index: IndexDir = None) -> None:
    """Serve the tools (search, ask, check, get_source, list_documents) and the documents to an MCP client on stdio."""
    from rag.serve import mcp_server

    mcp_server.run_stdio(settings(corpus, index, llm))


@app.command("eval")
def eval_cmd(
    set_: Annotated[Path | None, typer.Option("--set", help="Question file (JSONL, see eval/README.md).")] = None,
    as_json: Json = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for result.json and report.md.")] = None,
    thresholds: Annotated[Path | None, typer.Option(help="Gate thresholds (JSON); default eval/thresholds.json.")] = None,
    mode: Annotated[str, typer.Option(help=f"Retrieval: {', '.join(MODES)}.")] = "hybrid",
    k: K = 5,
    split: Annotated[str, typer.Option(help=f"Questions to score: {', '.join(SPLITS)} (the sealed splits are scored apart, see eval/README.md).")] = "all",
    llm: Llm = None,
    corpus: Corpus = None,
    index: IndexDir = None,
) -> None:
    """Score answers and citations on an eval set; exit 1 naming every metric below its threshold.

    With an LLM the thresholds are eval/thresholds-llm.json unless --thresholds is given.
    """
    from rag import evaluate

    try:
        result = evaluate.run(settings(corpus, index, llm), set_, out_dir, thresholds, mode, k, split, err.is_terminal)
    except RagError as e:
        fail(e)
    if as_json:
        out.print(json.dumps({key: v for key, v in result.items() if key != "questions"}), markup=False)
    else:
        out.print(evaluate.table(result), markup=False)
    for f in result["gate"]["failures"]:
        err.print(f"gate failed: {f}", markup=False)
    raise typer.Exit(0 if result["gate"]["passed"] else 1)


@app.command()
def add(
    paths: Annotated[list[Path], typer.Argument(help="Files to add: .txt, .md, .html, .htm, .pdf, or .json (one document: title, text, date, url).")],
    corpus: Corpus = None,
    index: IndexDir = None,
) -> None:
    """Add documents to the corpus (copied into its added/ folder) and update the index: only they are embedded."""
    from rag.ingest import adding

    s = settings(corpus, index)
    added, failed = [], 0
    try:
        adding.check_folder(s.corpus_dir)
        for path in paths:
            try:
                added.append(adding.add(s.corpus_dir, path.name, path.read_bytes(), s.max_upload_bytes))
            except OSError as e:
                failed += 1
                err.print(f"error: {path}: cannot be read ({e.strerror or e})", markup=False)
            except RagError as e:  # its message names the file
                failed += 1
                err.print(f"error: {e}", markup=False)
        if added:
            _reindex(s)
    except RagError as e:
        fail(e)
    for a in added:
        out.print(f"added {a.name}: {a.title!r}, {a.paragraphs} paragraphs" + (f", dated {a.date}" if a.date else ""), markup=False)
    raise typer.Exit(1 if failed else 0)


@app.command()
def remove(
    names: Annotated[list[str], typer.Argument(help="Documents to remove, named as citations name them (e.g. added/page.html).")],
    corpus: Corpus = None,
    index: IndexDir = None,
) -> None:
    """Remove documents from the corpus folder and update the index."""
    from rag.ingest import adding

    s = settings(corpus, index)
    try:
        for name in names:
            adding.remove(s.corpus_dir, name)
            out.print(f"removed {name}", markup=False)
        _reindex(s)
    except RagError as e:
        fail(e)


def _reindex(s: Settings) -> None:
    from rag import index as index_mod
    from rag.index import embed

    embedder = embed.load(s.embed_model, s.embed_precision)
    report = index_mod.build(s.corpus_dir, s.index_dir, embedder, s.index_kind, progress=sys.stderr.isatty(), where=index_mod.Where.of(s))
    err.print(f"index: {report.paragraphs} paragraphs from {report.documents} documents ({report.embedded} embedded)", markup=False)


def main() -> None:
    from pydantic import ValidationError

    try:
        app(prog_name="rag")
    except ValidationError as e:  # a setting in the environment that does not parse: one line, not a traceback
        if e.title != "Settings":
            raise
        x = e.errors()[0]
        name = f"RAG_{x['loc'][0]}".upper() if x["loc"] else "a setting"
        err.print(f"[bold red]error:[/] {name}={x.get('input')!r} is not valid: {x['msg']}", markup=True, highlight=False)
        raise SystemExit(2) from None
