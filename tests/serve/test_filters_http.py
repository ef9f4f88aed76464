"""The filters' fields on POST /search, /ask and /check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rag.answer.pipeline import Pipeline
from rag.serve import api

Q = "What percentage of Kazakhstan's people belong to the Russian minority?"
KEPT = ["003_*", "004_*"]


@pytest.fixture(scope="module")
def client(pipe: Pipeline) -> Iterator[TestClient]:
    with TestClient(api.create_app(pipe.settings, pipe)) as c:
        yield c


def test_search_ask_and_check_keep_to_the_sources(client: TestClient) -> None:
    hits = client.post("/search", json={"question": Q, "k": 4, "sources": KEPT}).json()["hits"]
    assert len(hits) == 4 and all(h["source"][:3] in ("003", "004") for h in hits)
    answer = client.post("/ask", json={"question": Q, "sources": KEPT}).json()
    assert all(p["source"][:3] in ("003", "004") for p in answer["passages"])
    checked = client.post("/check", json={"text": "Russians live in Kazakhstan.", "sources": KEPT}).json()
    assert all(c["source"][:3] in ("003", "004") for s in checked["sentences"] for c in s["citations"])


@pytest.mark.parametrize("path,body", [("/search", {"question": Q}), ("/ask", {"question": Q}),
                                       ("/check", {"text": "Russians live in Kazakhstan."})])
def test_a_filter_that_keeps_nothing_is_a_422_with_the_message(client: TestClient, path: str, body: dict) -> None:  # type: ignore[type-arg]
    r = client.post(path, json=body | {"sources": ["nothing-*"]})
    assert r.status_code == 422 and r.json()["detail"].startswith("no document matches the filters: sources nothing-*")
    r = client.post(path, json=body | {"date_from": "2022-02-30"})
    assert r.status_code == 422 and "date_from" in r.json()["detail"], r.json()


def test_the_schema_publishes_the_filters(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("AskRequest", "SearchRequest", "CheckRequest"):
        assert {"date_from", "date_to", "sources"} <= set(schemas[name]["properties"])


def test_a_streamed_answer_keeps_to_the_sources(client: TestClient) -> None:
    import json

    r = client.post("/ask", json={"question": Q, "stream": True, "sources": KEPT})
    done = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")][-1]
    assert r.status_code == 200 and all(p["source"][:3] in ("003", "004") for p in done["passages"])
    r = client.post("/ask", json={"question": Q, "stream": True, "sources": ["nothing-*"]})
    assert r.status_code == 422 and r.json()["detail"].startswith("no document matches the filters")
