from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from rag.answer.pipeline import Pipeline
from rag.config import Settings
from rag.serve import api
from tests.conftest import rag_serve

Q = "What percentage of Kazakhstan's people belong to the Russian minority?"


@pytest.fixture(scope="module")
def client(pipe: Pipeline) -> Iterator[TestClient]:
    with TestClient(api.create_app(pipe.settings, pipe)) as c:
        yield c


def test_ask_returns_verified_answer(client: TestClient) -> None:
    a = client.post("/ask", json={"question": Q}).json()
    assert not a["refused"] and "20%" in a["answer"] and a["citations"][0]["source"].startswith("001_")


def test_stream_matches_plain_answer(client: TestClient) -> None:
    plain = client.post("/ask", json={"question": Q}).json()
    events = [e for e in client.post("/ask", json={"question": Q, "stream": True}).text.split("\n\n") if e]
    kinds = [e.split("\n")[0].removeprefix("event: ") for e in events]
    assert kinds[0] == "delta" and "citation" in kinds and kinds[-1] == "done"
    done = json.loads(events[-1].split("data: ", 1)[1])
    text = "".join(json.loads(e.split("data: ", 1)[1])["text"] for e in events if e.startswith("event: delta"))
    strip = lambda a: {k: v for k, v in a.items() if k != "timings_ms"}  # noqa: E731
    assert strip(done) == strip(plain) and text == plain["draft"]  # deltas carry the draft; done the verified answer


def test_search_sources_documents_health(client: TestClient) -> None:
    hits = client.post("/search", json={"question": "CSTO force units", "k": 3}).json()["hits"]
    assert len(hits) == 3 and set(hits[0]) == {"id", "source", "start", "end", "text", "score", "page"}
    para = client.get(f"/sources/{hits[0]['id'].replace('#', '%23')}").json()
    assert para["text"] == hits[0]["text"]
    doc = client.get("/documents/004_1ab97ee52b3e3350.txt").json()
    assert doc["title"] == "Kazakhstan continues friendship with Russia" and doc["paragraphs"]
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["model"] == "all-MiniLM-L6-v2" and h["generator"] == "extractive"
    assert client.get("/openapi.json").json()["paths"]["/ask"]


@pytest.mark.parametrize("path", ["/sources/..%2F..%2Fetc%2Fpasswd", "/sources/nope", "/documents/../pyproject.toml", "/documents/x.txt"])
def test_unknown_ids_are_404(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and "detail" in r.json()


@pytest.mark.parametrize("body,fragment", [
    ({"question": ""}, "question"), ({"question": "   "}, "empty"), ({"question": "\x1d\x1d"}, "empty"), ({"question": "x" * 2001}, "at most 2000"),
    ({"question": "hi", "k": 0}, "k"), ({"question": "hi", "k": 500}, "k: Input should be less than or equal to 50"), ({"question": 5}, "string"),
    ({}, "required"), ({"question": "hi", "history": [{"role": "robot", "content": "x"}]}, "role"),
])
def test_bad_input_gets_422_with_message(client: TestClient, body: dict, fragment: str) -> None:  # type: ignore[type-arg]
    r = client.post("/ask", json=body)
    assert r.status_code == 422 and fragment in r.json()["detail"]


# What JSON Schema (ECMA-262) means by \s, which is what a client or a schema-driven tester reads in the pattern.
ECMA_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def test_the_schema_calls_blank_what_the_pipeline_calls_blank(client: TestClient) -> None:
    pattern = client.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]["properties"]["question"]["pattern"]
    as_ecma = re.compile(pattern.replace("\\s", ECMA_SPACE).replace("\\S", f"[^{ECMA_SPACE}]"))
    blank = [chr(c) for c in range(0x3000 + 1) if chr(c).isspace()]  # what str.strip() removes
    assert blank and not [c for c in blank if as_ecma.search(c)]
    assert all(as_ecma.search(q) for q in ("a", "é", "?", " \x1dWho? "))


def test_malformed_and_oversized_bodies(client: TestClient) -> None:
    r = client.post("/ask", content=b"{bad", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = client.post("/ask", content=b"x" * 2_100_000, headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_api_key_is_required_when_set(pipe: Pipeline) -> None:
    s = pipe.settings.model_copy(update={"api_key": "sekret"})
    with TestClient(api.create_app(s, pipe)) as c:
        assert c.get("/health").status_code == 200
        assert c.post("/search", json={"question": "CSTO"}).status_code == 401
        assert c.post("/search", json={"question": "CSTO"}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.post("/search", json={"question": "CSTO"}, headers={"Authorization": "Bearer sekret"}).status_code == 200


@pytest.mark.slow
def test_real_server_end_to_end(settings: Settings) -> None:
    with rag_serve(RAG_INDEX_DIR=str(settings.index_dir), RAG_CORPUS_DIR=str(settings.corpus_dir)) as base:
        first = httpx.post(f"{base}/ask", json={"question": Q}, timeout=60).json()
        with ThreadPoolExecutor(16) as pool:
            many = list(pool.map(lambda _: httpx.post(f"{base}/ask", json={"question": Q}, timeout=120), range(50)))
        assert all(r.status_code == 200 for r in many)
        assert all(r.json()["answer"] == first["answer"] and r.json()["citations"] == first["citations"] for r in many)
        stream = httpx.post(f"{base}/ask", json={"question": Q, "stream": True}, timeout=60).text
        assert "event: done" in stream
        hit = httpx.post(f"{base}/search", json={"question": Q, "k": 1}, timeout=60).json()["hits"][0]
        para = httpx.get(f"{base}/sources/{hit['id'].replace('#', '%23')}").json()
        assert para["text"] == hit["text"] == Path(settings.corpus_dir, hit["source"]).read_text()[hit["start"] : hit["end"]]
