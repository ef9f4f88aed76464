"""Prompt templates stored as files in prompts/, with `{{name}}` placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from rag.errors import RagError

PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
FENCE = re.compile(r"<<<|>>>")
FAKE_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def render(folder: Path, name: str, **values: object) -> str:
    """Fill `folder/name.txt`; a placeholder without a value is an error, never left blank.

    >>> # prompts/passage.txt holds "<<<PASSAGE {{n}}...>>>"
    """
    path = folder / f"{name}.txt"
    try:
        template = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RagError(f"prompt template {path} cannot be read: set RAG_PROMPTS_DIR to the prompts folder") from e
    missing = sorted(set(PLACEHOLDER.findall(template)) - set(values))
    if missing:
        raise RagError(f"prompt template {path} needs values for: {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


def quote(text: str) -> str:
    """Passage text made inert inside a fence: it cannot close the fence or forge a citation."""
    return FAKE_MARKER.sub(r"(\1)", FENCE.sub(lambda m: "‹‹‹" if m.group() == "<<<" else "›››", text))
