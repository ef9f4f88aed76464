"""The `rag chat` loop: a conversation with history, read from a terminal or line by line."""

from __future__ import annotations

import sys
from typing import Any

from rag import render
from rag.errors import RagError
from rag.pipeline import Pipeline

HELP = "Ask a question. :sources shows the last answer's sources, :quit leaves."


def run(pipeline: Pipeline, k: int, interactive: bool) -> None:
    """Read questions until :quit, end of input or Ctrl-C; answer each with the history so far."""
    out, err = render.out, render.err
    history: list[dict[str, str]] = []
    last: dict[str, Any] | None = None
    if interactive:
        out.print(HELP)
    while True:
        try:
            line = _read(interactive)
        except (EOFError, KeyboardInterrupt):
            out.print()
            return
        q = line.strip()
        if not q:
            continue
        if q in (":quit", ":q", ":exit"):
            return
        if q == ":sources":
            render.sources(last) if last else out.print("no answer yet")
            continue
        if q.startswith(":"):
            out.print(f"unknown command {q}. {HELP}")
            continue
        drafting = pipeline.drafts  # a model's draft streams in dim text; the verified answer follows it
        try:
            answer = pipeline.ask(q, history=history[-pipeline.settings.max_history_turns + 2 :], k=k,
                                  on_token=_show_draft if drafting else None)
        except RagError as e:
            err.print(f"error: {e}", markup=False)
            continue
        except KeyboardInterrupt:
            out.print()
            return
        last = answer.to_dict()
        if drafting:
            out.print()
            if answer.standalone_question != q:
                out.print(f"(asked as: {answer.standalone_question})", style="dim", markup=False)
            render.answer(last)
        else:
            out.print(answer.answer, markup=False)
        history += [{"role": "user", "content": answer.standalone_question}, {"role": "assistant", "content": answer.answer}]


def _show_draft(piece: str) -> None:
    render.out.print(piece, end="", style="dim", markup=False)


def _read(interactive: bool) -> str:
    if interactive:
        return input("> ")
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line
