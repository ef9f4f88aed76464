"""How answers look in a terminal, and the `rag chat` loop.

The one place `rag ask` and `rag chat` both print from; the chat loop is a conversation with history, read
from a terminal or line by line.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.text import Text

from rag.answer.pipeline import Pipeline
from rag.answer.retrieve import Filter
from rag.answer.verify import Verified
from rag.errors import RagError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay one line in logs


def answer(a: dict[str, Any], as_json: bool = False) -> None:
    """Print an answer and its sources, or the answer as one JSON line."""
    if as_json:
        out.print(json.dumps(a, ensure_ascii=False), markup=False)
        return
    out.print(marked(a["answer"], a.get("short_answer")))
    sources(a)


def marked(text: str, short: dict[str, Any] | None) -> Text:
    """`text` with the short answer in bold where it first stands in it."""
    shown = Text(text)
    if short and (at := text.find(short["text"])) >= 0:
        shown.stylize("bold", at, at + len(short["text"]))
    return shown


def ask(pipeline: Pipeline, question: str, k: int, as_json: bool = False, filters: Filter | None = None) -> None:
    """`rag ask`: one answer printed; in a terminal with a model, the offline answer shows while the model writes."""
    live = pipeline.drafts and not as_json and out.is_terminal
    a = pipeline.ask(question, k=k, on_token=_show_draft if live else None, on_offline=_show_offline if live else None,
                     filters=filters)
    if live:
        out.print()
    answer(a.to_dict(), as_json)


def sources(a: dict[str, Any]) -> None:
    """The citations of an answer: file, paragraph, span and quote; then any notes."""
    if not a["citations"]:
        out.print("(no sources: the corpus does not answer this)" if a["refused"] else "(no sources)")
    else:
        out.print("\nSources:")
    for c in a["citations"]:
        flag = "" if c["supported"] else "  (not supported)"
        where = "".join(f", {k} {c[k]}" for k in ("page", "date") if c.get(k))
        out.print(f"  [{c['marker']}] {c['id']} [{c['start']}:{c['end']}]{where}{flag}\n      “", end="", markup=False)
        short = a.get("short_answer") or {}
        out.print(marked(c["quote"], short if short.get("marker") == c["marker"] else None), end="”\n")
    for note in a.get("notes", []):
        err.print(f"note: {note}", markup=False)


def checked(c: dict[str, Any], as_json: bool = False) -> None:
    """Each sentence of a checked text with its verdict and the quotes that support it, or all as one JSON line."""
    if as_json:
        out.print(json.dumps(c, ensure_ascii=False), markup=False)
        return
    for s in c["sentences"]:
        mark = "[green]supported[/]" if s["supported"] else "[red]not supported[/]"
        out.print(f"{mark} [{s['start']}:{s['end']}]", markup=True, end=" ")
        out.print(s["text"], markup=False)
        for q in s["citations"]:
            out.print(f"    {q['id']} [{q['start']}:{q['end']}] “{q['quote']}”", markup=False)
        if not s["supported"]:
            out.print("    no passage of the corpus says this", markup=False)
    n = sum(s["supported"] for s in c["sentences"])
    out.print(f"\n{n} of {len(c['sentences'])} sentences supported by the corpus", markup=False)


def hits(question: str, found: list[dict[str, Any]], as_json: bool = False) -> None:
    """Ranked passages, best first, or all of them as one JSON line."""
    if as_json:
        out.print(json.dumps({"question": question, "hits": found}, ensure_ascii=False), markup=False)
        return
    for n, h in enumerate(found, 1):
        out.print(f"[bold]{n}. {h['id']}[/]  score {h['score']:.4f}  [{h['start']}:{h['end']}]", markup=True)
        out.print(f"   {h['text']}\n", markup=False)


HELP = "Ask a question. :sources shows the last answer's sources, :quit leaves."


def run(pipeline: Pipeline, k: int, interactive: bool, filters: Filter | None = None) -> None:
    """Read questions until :quit, end of input or Ctrl-C; answer each with the history so far."""
    history: list[dict[str, str]] = []
    last: dict[str, Any] | None = None
    if interactive:
        out.print(HELP)
    while True:
        try:
            q = _read(interactive).strip()
        except (EOFError, KeyboardInterrupt):
            out.print()
            return
        if q in (":quit", ":q", ":exit"):
            return
        if q.startswith(":") or not q:
            _command(q, last)
            continue
        try:
            reply = pipeline.ask(q, history=history[-pipeline.settings.max_history_turns + 2 :], k=k,
                                 on_token=_show_draft if pipeline.drafts else None,
                                 on_offline=_show_offline if pipeline.drafts else None, filters=filters)
        except RagError as e:
            err.print(f"error: {e}", markup=False)
            continue
        except KeyboardInterrupt:
            out.print()
            return
        last = reply.to_dict()
        _show(last, q, pipeline.drafts)
        history += [{"role": "user", "content": reply.standalone_question}, {"role": "assistant", "content": reply.answer}]


def _command(q: str, last: dict[str, Any] | None) -> None:
    """A chat command other than :quit; an empty line does nothing."""
    if q == ":sources":
        sources(last) if last else out.print("no answer yet")
    elif q:
        out.print(f"unknown command {q}. {HELP}")


def _show(a: dict[str, Any], q: str, drafted: bool) -> None:
    """The answer: after a streamed draft, the verified answer with its sources; otherwise its text."""
    if not drafted:
        out.print(a["answer"], markup=False)
        return
    out.print()  # a model's draft streamed in dim text; the verified answer follows it
    if a["standalone_question"] != q:
        out.print(f"(asked as: {a['standalone_question']})", style="dim", markup=False)
    answer(a)


def _show_offline(v: Verified) -> None:
    """The offline ranker's verified answer, labelled and dim, shown until the model's answer replaces it."""
    out.print("offline answer: ", style="dim bold", end="", markup=False)
    out.print(v.answer, style="dim", markup=False)
    out.print("model: ", style="dim bold", end="", markup=False)


def _show_draft(piece: str) -> None:
    out.print(piece, end="", style="dim", markup=False)


def _read(interactive: bool) -> str:
    if interactive:
        return input("> ")
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line
