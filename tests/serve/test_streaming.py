"""The offline answer first: with a model, the ranker's verified answer streams before the model's draft."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.answer import verify as V
from rag.answer.designs import EvidenceFirst
from rag.answer.llm import OpenAICompatible
from rag.answer.pipeline import Pipeline
from rag.config import ROOT
from rag.serve import api
from tests import fake_llm

pytestmark = pytest.mark.slow  # a server on loopback

Q = "Which countries sent units to the CSTO force in Kazakhstan?"
REPLY = "Units came from Belarus, Armenia, Tajikistan, Kyrgyzstan and Russia [1]."


@pytest.fixture
def llm() -> Iterator[fake_llm.FakeLLM]:
    with fake_llm.serve() as fake:
        yield fake


def _evidence_first(pipe: Pipeline, fake: fake_llm.FakeLLM) -> Pipeline:
    gen = OpenAICompatible("test-model", ROOT / "prompts", fake.url, "k", timeout=5, retries=0)
    return Pipeline(pipe.retriever, EvidenceFirst(gen, pipe.generator, ROOT / "prompts"), None, pipe.settings)  # type: ignore[arg-type]


def _events(text: str) -> list[tuple[str, Any]]:
    blocks = [b.split("\n", 1) for b in text.split("\n\n") if b]
    return [(head.removeprefix("event: "), json.loads(data.removeprefix("data: "))) for head, data in blocks]


def test_the_offline_answer_comes_first_verified_then_the_model_writes(pipe: Pipeline, llm: fake_llm.FakeLLM) -> None:
    seen: list[tuple[str, Any]] = []
    llm.enqueue(("text", REPLY))
    a = _evidence_first(pipe, llm).ask(Q, on_token=lambda t: seen.append(("token", t)),
                                       on_offline=lambda v: seen.append(("offline", v)))
    kinds = [kind for kind, _ in seen]
    assert kinds[0] == "offline" and kinds.count("offline") == 1 and kinds.count("token") > 3
    offline: V.Verified = seen[0][1]
    assert "Belarus" in offline.answer and offline.citations and all(c.supported for c in offline.claims)
    doc = pipe.retriever.index.documents[offline.citations[0].source]["text"]
    assert doc[offline.citations[0].start : offline.citations[0].end] == offline.citations[0].quote
    assert "".join(t for kind, t in seen if kind == "token") == a.draft == REPLY and "Units came" in a.answer


def test_no_offline_answer_when_refused_or_answered_offline(pipe: Pipeline, llm: fake_llm.FakeLLM) -> None:
    shown: list[V.Verified] = []
    assert _evidence_first(pipe, llm).ask("Which team won the 2018 Tour de France?", on_offline=shown.append).refused
    assert not pipe.ask(Q, on_offline=shown.append).refused and shown == []  # the offline answerer: nothing changes


def test_the_stream_opens_with_the_offline_delta_and_the_draft_deltas_make_the_draft(
        pipe: Pipeline, llm: fake_llm.FakeLLM) -> None:
    llm.enqueue(("text", REPLY))
    p = _evidence_first(pipe, llm)
    with TestClient(api.create_app(p.settings, p)) as client:
        events = _events(client.post("/ask", json={"question": Q, "stream": True}).text)
    first, done = events[0], events[-1][1]
    assert first[0] == "delta" and first[1]["offline"] is True and "Belarus" in first[1]["text"]
    assert first[1]["citations"][0]["supported"] and first[1]["claims"][0]["markers"]
    drafted = "".join(d["text"] for kind, d in events[1:] if kind == "delta")
    assert not any(d.get("offline") for kind, d in events[1:] if kind == "delta")
    assert drafted == done["draft"] == REPLY and events[-1][0] == "done" and not done["refused"]
