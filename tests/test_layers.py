"""The direction of imports: each home of rag/ imports only the layers below it (import-linter's layers contract)."""

from __future__ import annotations

import tomllib

from importlinter.cli import lint_imports

from rag.config import ROOT

PYPROJECT = ROOT / "pyproject.toml"


def _layers() -> list[str]:
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    return [name.strip() for c in contracts if c["type"] == "layers" for layer in c["layers"] for name in layer.split("|")]


def test_every_home_of_rag_is_in_a_layer() -> None:
    homes = {f"rag.{p.stem}" for p in (ROOT / "rag").glob("*.py") if p.stem != "__init__"}
    homes |= {f"rag.{p.parent.name}" for p in (ROOT / "rag").glob("*/__init__.py")}
    assert homes == set(_layers())


def test_no_module_imports_upwards() -> None:
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0
