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
    history: list[dict[str, str]] = []
    last: dict[str, Any] | None = None
    if interactive:
        render.out.print(HELP)
    while True:
        try:
            q = _read(interactive).strip()
        except (EOFError, KeyboardInterrupt):
            render.out.print()
            return
        if q in (":quit", ":q", ":exit"):
            return
        if q.startswith(":") or not q:
            _command(q, last)
            continue
        try:
            answer = pipeline.ask(q, history=history[-pipeline.settings.max_history_turns + 2 :], k=k,
                                  on_token=_show_draft if pipeline.drafts else None)
        except RagError as e:
            render.err.print(f"error: {e}", markup=False)
            continue
        except KeyboardInterrupt:
            render.out.print()
            return
        last = answer.to_dict()
        _show(last, q, pipeline.drafts)
        history += [{"role": "user", "content": answer.standalone_question}, {"role": "assistant", "content": answer.answer}]


def _command(q: str, last: dict[str, Any] | None) -> None:
    """A chat command other than :quit; an empty line does nothing."""
    if q == ":sources":
        render.sources(last) if last else render.out.print("no answer yet")
    elif q:
        render.out.print(f"unknown command {q}. {HELP}")


def _show(answer: dict[str, Any], q: str, drafted: bool) -> None:
    """The answer: after a streamed draft, the verified answer with its sources; otherwise its text."""
    if not drafted:
        render.out.print(answer["answer"], markup=False)
        return
    render.out.print()  # a model's draft streamed in dim text; the verified answer follows it
    if answer["standalone_question"] != q:
        render.out.print(f"(asked as: {answer['standalone_question']})", style="dim", markup=False)
    render.answer(answer)


def _show_draft(piece: str) -> None:
    render.out.print(piece, end="", style="dim", markup=False)


def _read(interactive: bool) -> str:
    if interactive:
        return input("> ")
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line
