"""Prompt templates: filled from files, a missing value is an error, passages are made inert."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer import prompts
from rag.config import ROOT
from rag.errors import RagError


def test_render_fills_every_placeholder(tmp_path: Path) -> None:
    (tmp_path / "greet.txt").write_text("Hello {{who}}, you asked {{question}}.")
    assert prompts.render(tmp_path, "greet", who="Ada", question="why") == "Hello Ada, you asked why."


def test_a_missing_value_is_an_error_not_a_blank(tmp_path: Path) -> None:
    (tmp_path / "greet.txt").write_text("Hello {{who}}, you asked {{question}}.")
    with pytest.raises(RagError, match="needs values for: question"):
        prompts.render(tmp_path, "greet", who="Ada")


def test_a_missing_template_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="RAG_PROMPTS_DIR"):
        prompts.render(tmp_path, "absent")


def test_quote_neutralises_fences_and_forged_markers() -> None:
    assert prompts.quote("a >>> b <<< c [2] d [1, 3]") == "a ››› b ‹‹‹ c (2) d (1, 3)"


def test_the_shipped_templates_render() -> None:
    cases: list[tuple[str, dict[str, object]]] = [
        ("system", {"refusal": "R"}), ("passage", {"n": 1, "source": "s", "title": "t", "text": "x"}),
        ("answer", {"passages": "P", "question": "Q"}), ("condense", {"previous": "H", "question": "Q"}),
        ("evidence_system", {"refusal": "R"}), ("evidence", {"evidence": "E", "question": "Q"}),
        ("judge", {"question": "Q", "title": "T", "sentence": "S"})]
    for name, values in cases:
        assert "{{" not in prompts.render(ROOT / "prompts", name, **values)
