"""Settings reach the parts they configure (RAG_LLM_EVIDENCE: the sentences the evidence design's model reads),
and one that does not parse is a one-line error."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import pytest

from rag import cli
from rag.answer import pipeline
from rag.answer.designs import EvidenceFirst, Judge
from rag.answer.pipeline import Pipeline
from rag.config import Settings, get_settings
from rag.errors import InputError
from tests import fake_llm

Q = "Which countries sent units to the CSTO force in Kazakhstan?"


@pytest.fixture
def llm() -> Iterator[fake_llm.FakeLLM]:
    with fake_llm.serve() as fake:
        yield fake


def _generator(pipe: Pipeline, url: str, **fields: object) -> object:
    s = pipe.settings.model_copy(update={"llm": "openai", "openai_base_url": url, "llm_timeout": 5.0, "llm_retries": 0,
                                         **fields})
    return pipeline.llm_generator(s, pipe.generator)  # type: ignore[arg-type]


def test_the_environment_sets_the_evidence_count(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().llm_evidence == 6
    monkeypatch.setenv("RAG_LLM_EVIDENCE", "9")
    assert Settings().llm_evidence == 9


def test_the_default_is_six_sentences_and_the_judge_keeps_its_four(pipe: Pipeline) -> None:
    evidence = _generator(pipe, "http://127.0.0.1:9/v1")
    judge = _generator(pipe, "http://127.0.0.1:9/v1", llm_design="judge", llm_evidence=2)
    assert isinstance(evidence, EvidenceFirst) and evidence.most == 6
    assert isinstance(judge, Judge) and judge.most == 4


@pytest.mark.parametrize("count", [0, -1, 21])
def test_an_evidence_count_out_of_range_is_a_one_line_error(pipe: Pipeline, count: int) -> None:
    with pytest.raises(InputError, match=f"^RAG_LLM_EVIDENCE must be between 1 and 20, not {count}$"):
        _generator(pipe, "http://127.0.0.1:9/v1", llm_evidence=count)


def test_a_setting_that_does_not_parse_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_LLM_EVIDENCE", "many")
    monkeypatch.setattr(sys, "argv", ["rag", "ask", "x"])
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as e:
            cli.main()
    finally:
        get_settings.cache_clear()
    assert e.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "error: RAG_LLM_EVIDENCE='many' is not valid: Input should be a valid integer, unable to parse string as an integer")


@pytest.mark.slow  # a server on loopback
@pytest.mark.parametrize("count", [2, 3])
def test_the_model_reads_as_many_sentences_as_set(pipe: Pipeline, llm: fake_llm.FakeLLM, count: int) -> None:
    llm.enqueue(("text", "Units came from Belarus [1]."))
    generator = _generator(pipe, llm.url, llm_evidence=count)
    Pipeline(pipe.retriever, generator, None, pipe.settings).ask(Q)  # type: ignore[arg-type]
    prompt = llm.received[0]["messages"][-1]["content"]
    assert re.findall(r"^\[(\d+)\] ", prompt, re.M) == [str(n) for n in range(1, count + 1)]
