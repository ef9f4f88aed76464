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
        try:
            answer = pipeline.ask(q, history=history[-pipeline.settings.max_history_turns + 2 :], k=k)
        except RagError as e:
            err.print(f"error: {e}", markup=False)
            continue
        except KeyboardInterrupt:
            out.print()
            return
        last = answer.to_dict()
        out.print(answer.answer, markup=False)
        history += [{"role": "user", "content": answer.standalone_question}, {"role": "assistant", "content": answer.answer}]


def _read(interactive: bool) -> str:
    if interactive:
        return input("> ")
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line
