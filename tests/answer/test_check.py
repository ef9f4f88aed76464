"""`rag check`: a text's sentences with their verdicts and spans, through the answer path's retrieval and checks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rag.answer import check
from rag.answer.pipeline import Pipeline
from rag.errors import InputError

TEXT = ("Kazakhstan shares a border of 6,846 kilometers with Russia. Putin asked Russia to send forces.\n\n"
        "Tokaev called for peace")


def test_each_sentence_gets_a_verdict_and_its_span(pipe: Pipeline) -> None:
    c = check.check(pipe, TEXT)
    assert [TEXT[s.start : s.end] for s in c.sentences] == [s.text for s in c.sentences]
    assert [s.text for s in c.sentences] == ["Kazakhstan shares a border of 6,846 kilometers with Russia.",
                                             "Putin asked Russia to send forces.", "Tokaev called for peace"]
    border, putin, _ = c.sentences
    assert border.supported and "6,846" in border.citations[0].quote
    documents = pipe.retriever.index.documents
    assert all(documents[q.source]["text"][q.start : q.end] == q.quote for q in border.citations)
    assert not putin.supported and putin.citations == [] and putin.notes


def test_a_name_spelt_otherwise_is_still_found(pipe: Pipeline) -> None:
    c = check.check(pipe, "Toqaev called for peace.")
    assert c.sentences[0].supported and "Tokayev" in c.sentences[0].citations[0].quote


@pytest.mark.parametrize("text", ["", "  \n "])
def test_an_empty_text_is_an_input_error(pipe: Pipeline, text: str) -> None:
    with pytest.raises(InputError, match="empty"):
        check.check(pipe, text)


@pytest.mark.slow
def test_cli_reads_standard_input_and_prints_json(settings: object) -> None:
    env = {"RAG_INDEX_DIR": str(settings.index_dir), "HF_HUB_OFFLINE": "1", "PATH": ""}  # type: ignore[attr-defined]
    run = subprocess.run([sys.executable, "-m", "rag", "check", "--json", "-"], input=TEXT, capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out) == {"text", "sentences"} and out["text"] == TEXT
    assert set(out["sentences"][0]) == {"text", "start", "end", "supported", "citations", "notes"}
    assert [s["supported"] for s in out["sentences"]][:2] == [True, False]
