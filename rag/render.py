"""How answers look in a terminal: the one place `rag ask` and `rag chat` both print from."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay one line in logs


def answer(a: dict[str, Any], as_json: bool = False) -> None:
    """Print an answer and its sources, or the answer as one JSON line."""
    if as_json:
        out.print(json.dumps(a, ensure_ascii=False), markup=False)
        return
    out.print(a["answer"], markup=False)
    sources(a)


def sources(a: dict[str, Any]) -> None:
    """The citations of an answer: file, paragraph, span and quote; then any notes."""
    if not a["citations"]:
        out.print("(no sources: the corpus does not answer this)" if a["refused"] else "(no sources)")
    else:
        out.print("\nSources:")
    for c in a["citations"]:
        flag = "" if c["supported"] else "  (not supported)"
        where = "".join(f", {k} {c[k]}" for k in ("page", "date") if c.get(k))
        out.print(f"  [{c['marker']}] {c['id']} [{c['start']}:{c['end']}]{where}{flag}\n      “{c['quote']}”", markup=False)
    for note in a.get("notes", []):
        err.print(f"note: {note}", markup=False)


def hits(question: str, found: list[dict[str, Any]], as_json: bool = False) -> None:
    """Ranked passages, best first, or all of them as one JSON line."""
    if as_json:
        out.print(json.dumps({"question": question, "hits": found}, ensure_ascii=False), markup=False)
        return
    for n, h in enumerate(found, 1):
        out.print(f"[bold]{n}. {h['id']}[/]  score {h['score']:.4f}  [{h['start']}:{h['end']}]", markup=True)
        out.print(f"   {h['text']}\n", markup=False)
