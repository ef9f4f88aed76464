"""POST /check: the same verdicts as `rag check`, over the app and over a real server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from rag.answer import check
from rag.answer.pipeline import Pipeline
from rag.config import Settings
from rag.serve import api
from tests.conftest import rag_serve

TEXT = "Kazakhstan shares a border of 6,846 kilometers with Russia.\n\nPutin asked Russia to send forces."


@pytest.fixture(scope="module")
def client(pipe: Pipeline) -> Iterator[TestClient]:
    with TestClient(api.create_app(pipe.settings, pipe)) as c:
        yield c


def test_check_returns_what_rag_check_finds(client: TestClient, pipe: Pipeline) -> None:
    r = client.post("/check", json={"text": TEXT})
    assert r.status_code == 200
    body = r.json()
    assert body == check.check(pipe, TEXT).to_dict()
    assert [s["supported"] for s in body["sentences"]] == [True, False]
    assert {"marker", "id", "source", "start", "end", "quote", "supported"} <= set(body["sentences"][0]["citations"][0])


@pytest.mark.parametrize("body", [{"text": ""}, {"text": " \n "}, {"text": "x", "k": 0}, {"question": "x"}])
def test_bad_bodies_are_422(client: TestClient, body: dict) -> None:  # type: ignore[type-arg]
    assert client.post("/check", json=body).status_code == 422


def test_a_real_server_checks_a_text(settings: Settings) -> None:
    with rag_serve(RAG_INDEX_DIR=str(settings.index_dir), RAG_CORPUS_DIR=str(settings.corpus_dir)) as base:
        body = httpx.post(f"{base}/check", json={"text": TEXT}, timeout=120).json()
    assert [s["text"] for s in body["sentences"]] == [TEXT[s["start"] : s["end"]] for s in body["sentences"]]
    assert [s["supported"] for s in body["sentences"]] == [True, False]
