"""The real local model (llama.cpp's server in-process, the bundled Qwen2.5 1.5B) behind the real pipeline and API.

These need `make setup-llm`; without the model they skip with the reason, except in CI, where they must run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rag.answer import designs, pipeline
from rag.answer import local_server as local
from rag.answer.pipeline import Pipeline
from rag.answer.retrieve import Sentence
from rag.config import ROOT, Settings
from rag.errors import LLMError
from tests.conftest import rag_serve

MODEL = ROOT / "models" / local.MODEL_FILE
FORCE = "Units from which countries made up the peacekeeping force deployed in Kazakhstan?"
ABSENT = "Which team won the 2018 Tour de France?"

needs_model = pytest.mark.skipif(
    not MODEL.is_file() and not os.environ.get("CI"), reason="the local model is not set up: run `make setup-llm`"
)


def test_missing_or_corrupt_model_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(local.ModelMissing, match="is missing: run `make setup-llm`"):
        local.check(tmp_path / "absent.gguf")
    short = tmp_path / "short.gguf"
    short.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(local.ModelMissing, match="incomplete or not a GGUF file.*make setup-llm"):
        local.check(short)


def test_a_model_that_fails_to_start_is_an_error_or_the_offline_answer(settings: Settings, tmp_path: Path) -> None:
    broken = settings.model_copy(update={"llm": "local", "model_path": tmp_path / "absent.gguf"})
    with pytest.raises(LLMError, match="make setup-llm"):
        pipeline.build(broken)
    a = pipeline.build(broken.model_copy(update={"fallback": "extractive"})).ask(FORCE)
    assert not a.refused and a.generator == "extractive" and "make setup-llm" in a.notes[0]


@pytest.fixture(scope="module")
def local_pipe(settings: Settings) -> Pipeline:
    return pipeline.build(settings.model_copy(update={"llm": "local"}))


@needs_model
@pytest.mark.slow
def test_answers_with_verified_citations_and_refuses(local_pipe: Pipeline) -> None:
    a = local_pipe.ask(FORCE)
    assert not a.refused and a.generator.startswith("local:")
    assert all(c.supported for c in a.citations) and all(c.supported for c in a.claims)
    assert {"belarus", "armenia"} <= set(a.answer.lower().replace(",", " ").split()) | set(a.citations[0].quote.lower().replace(",", " ").split())
    doc = local_pipe.retriever.index.documents[a.citations[0].source]["text"]
    assert doc[a.citations[0].start : a.citations[0].end] == a.citations[0].quote
    assert local_pipe.ask(ABSENT).refused


@needs_model
@pytest.mark.slow
@pytest.mark.parametrize("sentence,states", [
    ("The footbridge over the canal is painted bright red.", True),
    ("The footbridge over the canal was opened by the mayor in 1990.", False),
])
def test_the_model_tells_a_sentence_that_answers_from_one_that_only_shares_the_words(
        local_pipe: Pipeline, sentence: str, states: bool) -> None:
    check = local_pipe.generator
    assert isinstance(check, designs.EvidenceFirst)
    c = designs.Candidate(1, Sentence(0, len(sentence), sentence), "The town's bridges")
    assert check.accepts("What colour is the footbridge over the canal?", c) is states


@needs_model
@pytest.mark.slow
def test_draft_streams_in_pieces_before_the_verified_answer(local_pipe: Pipeline) -> None:
    pieces: list[str] = []
    a = local_pipe.ask(FORCE, on_token=pieces.append)
    assert len(pieces) > 3 and "".join(pieces).strip() and a.draft == "".join(pieces).strip()


@needs_model
@pytest.mark.slow
def test_the_verified_offline_answer_comes_before_the_model_writes(local_pipe: Pipeline) -> None:
    seen: list[tuple[str, float, object]] = []
    t0 = time.perf_counter()
    a = local_pipe.ask(FORCE, on_token=lambda t: seen.append(("token", time.perf_counter() - t0, t)),
                       on_offline=lambda v: seen.append(("offline", time.perf_counter() - t0, v)))
    kind, at, offline = seen[0]
    assert kind == "offline" and [k for k, _, _ in seen].count("offline") == 1 and at < seen[1][1]
    assert offline.citations and all(c.supported for c in offline.claims)  # type: ignore[attr-defined]
    assert a.draft == "".join(str(t) for k, _, t in seen if k == "token").strip() and a.generator.startswith("local:")


@needs_model
@pytest.mark.slow
def test_follow_up_is_rewritten_and_retrieves_anew(local_pipe: Pipeline) -> None:
    first = local_pipe.ask(FORCE)
    history = [{"role": "user", "content": first.standalone_question}, {"role": "assistant", "content": first.answer}]
    follow = local_pipe.ask("and who led it?", history=history)
    assert follow.standalone_question != "and who led it?" and follow.answer != first.answer
    standalone = follow.standalone_question.lower()
    assert "force" in standalone or "csto" in standalone or "collective security" in standalone  # the first question's subject
    assert any("led by Moscow" in p["text"] for p in follow.passages)


@pytest.fixture(scope="module")
def local_server(seeds_index: Path) -> Iterator[str]:
    with rag_serve(RAG_INDEX_DIR=str(seeds_index), RAG_LLM="local") as base:
        yield base


@needs_model
@pytest.mark.slow
def test_server_streams_real_tokens_then_the_verified_answer(local_server: str) -> None:
    events = []
    with httpx.stream("POST", f"{local_server}/ask", json={"question": FORCE, "stream": True}, timeout=120) as r:
        assert r.status_code == 200
        for block in r.iter_text():
            events.append((time.perf_counter(), block))
    text = "".join(b for _, b in events)
    kinds = [e.split("\n")[0].removeprefix("event: ") for e in text.split("\n\n") if e]
    assert kinds.count("delta") > 3 and kinds[-1] == "done" and "citation" in kinds
    done = json.loads(text.split("event: done\ndata: ", 1)[1])
    assert done["generator"].startswith("local:") and not done["refused"] and all(c["supported"] for c in done["citations"])
    assert len(events) > 2  # the deltas arrived in separate reads, as they were generated


@needs_model
@pytest.mark.slow
def test_two_concurrent_questions_both_answered(local_server: str) -> None:
    questions = [FORCE, "How long is the border Kazakhstan shares with Russia?"]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda q: httpx.post(f"{local_server}/ask", json={"question": q}, timeout=180).json(), questions))
    assert not answers[0]["refused"] and "belarus" in (answers[0]["answer"] + answers[0]["citations"][0]["quote"]).lower()
    assert not answers[1]["refused"] and "6,846" in answers[1]["answer"]


@needs_model
@pytest.mark.slow
def test_chat_shows_the_draft_then_the_verified_answer_and_follows_up(seeds_index: Path) -> None:
    env = {**os.environ, "RAG_INDEX_DIR": str(seeds_index)}
    lines = f"{FORCE}\nand who led it?\n:quit\n"
    done = subprocess.run([sys.executable, "-m", "rag", "chat", "--llm", "local"], input=lines, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert done.stdout.count("Sources:") == 2 and "(asked as:" in done.stdout
