"""The code's size limits: every function under about 40 lines, every module under about 300."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rag.config import ROOT

FUNCTION_LINES = 40
MODULE_LINES = 300
FOLDERS = ("rag", "bench", "tests", "train")


def _modules() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def _too_long(source: str) -> list[str]:
    """The functions of `source` longer than FUNCTION_LINES, as "name (lines)".

    >>> _too_long("def f():\\n" + "    x = 1\\n" * 45 + "def g():\\n    pass\\n")
    ['f (46)']
    """
    nodes = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    lengths = [(n.name, (n.end_lineno or n.lineno) - n.lineno + 1) for n in nodes]
    return [f"{name} ({length})" for name, length in lengths if length > FUNCTION_LINES]


def test_the_limits_see_every_module() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert {"rag/answer/pipeline.py", "bench/squad2.py", "tests/test_shape.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_functions_and_module_within_limits(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MODULE_LINES, f"{path.name}: {len(source.splitlines())} lines"
    assert _too_long(source) == [], f"{path.name}: functions over {FUNCTION_LINES} lines"
