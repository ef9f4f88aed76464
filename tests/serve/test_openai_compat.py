from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest
from fastapi.testclient import TestClient

from rag.answer.pipeline import Pipeline
from rag.config import Settings
from rag.serve import api
from tests.conftest import rag_serve

Q = "What percentage of Kazakhstan's people belong to the Russian minority?"
CHAT = "/v1/chat/completions"
KEPT_Q = "How many Russians have crossed into Kazakhstan since the mobilization?"


@pytest.fixture(scope="module")
def client(pipe: Pipeline) -> Iterator[TestClient]:
    with TestClient(api.create_app(pipe.settings, pipe)) as c:
        yield c


def _chunks(text: str) -> list[dict]:
    data = [e.removeprefix("data: ") for e in text.split("\n\n") if e]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]


def test_completion_is_the_verified_answer_with_sources(client: TestClient) -> None:
    plain = client.post("/ask", json={"question": Q}).json()
    r = client.post(CHAT, json={"model": "rag", "messages": [{"role": "system", "content": "Be brief."},
                                                             {"role": "user", "content": Q}]})
    body = r.json()
    message = body["choices"][0]["message"]
    assert r.status_code == 200 and body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] == "stop"
    assert message["content"].startswith(plain["answer"]) and "**Sources**" in message["content"]
    assert "- [1] 001_" in message["content"] and body["citations"] == message["citations"] == plain["citations"]


def test_stream_carries_the_same_content(client: TestClient) -> None:
    whole = client.post(CHAT, json={"messages": [{"role": "user", "content": Q}]}).json()
    chunks = _chunks(client.post(CHAT, json={"messages": [{"role": "user", "content": Q}], "stream": True}).text)
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"] == whole["citations"]


def test_history_makes_a_follow_up_standalone(client: TestClient) -> None:
    messages = [{"role": "user", "content": "Who led the CSTO force in Kazakhstan?"},
                {"role": "assistant", "content": [{"type": "text", "text": "An answer. " * 2000}]},
                {"role": "user", "content": "and how many troops were there?"}]
    body = client.post(CHAT, json={"messages": messages}).json()
    assert body["choices"][0]["message"]["content"] and "citations" in body


@pytest.mark.parametrize("stream", [False, True])
def test_filters_ride_along_and_keep_the_answer_to_their_documents(client: TestClient, stream: bool) -> None:
    kept = ["003_*", "004_*"]
    plain = client.post("/ask", json={"question": KEPT_Q, "sources": kept}).json()
    body = {"messages": [{"role": "user", "content": KEPT_Q}], "stream": stream, "sources": kept}
    r = client.post(CHAT, json=body)
    cited = r.json()["citations"] if not stream else _chunks(r.text)[-1]["citations"]
    assert r.status_code == 200 and cited and cited == plain["citations"]
    assert all(c["source"][:3] in ("003", "004") for c in cited) and all(p["source"][:3] in ("003", "004") for p in plain["passages"])
    missing = client.post(CHAT, json=body | {"sources": ["nothing-*"]})
    assert missing.status_code == 422 and "no document matches the filters" in missing.json()["error"]["message"]
    late = client.post(CHAT, json=body | {"sources": None, "date_from": "2030-01-01"})
    assert late.status_code == 422 and "from 2030-01-01" in late.json()["error"]["message"]


def test_models_lists_the_name(client: TestClient) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["rag"]


@pytest.mark.parametrize("messages, message", [
    ([{"role": "assistant", "content": "Hi."}], "the conversation must end with a user message"),
    ([{"role": "user", "content": "   "}], "the question is empty"),
    ([], "messages:"),
    ([{"role": "robot", "content": "x"}], "messages.0.role:"),
])
def test_errors_are_openai_shaped(client: TestClient, messages: list[dict], message: str) -> None:
    r = client.post(CHAT, json={"messages": messages, "stream": True})
    error = r.json()["error"]
    assert r.status_code == 422 and error["message"].startswith(message) and error["type"] == "invalid_request_error"


def test_api_key_is_required_when_set(pipe: Pipeline) -> None:
    s = pipe.settings.model_copy(update={"api_key": "sekret"})
    with TestClient(api.create_app(s, pipe)) as c:
        r = c.get("/v1/models")
        assert r.status_code == 401 and "API key" in r.json()["error"]["message"] and r.json()["error"]["type"] == "authentication_error"
        assert c.get("/v1/models", headers={"Authorization": "Bearer sekret"}).status_code == 200


@pytest.mark.slow
def test_openai_client_against_a_real_server(settings: Settings) -> None:
    env = {"RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir), "RAG_API_KEY": "k1"}
    with rag_serve(**env) as base:
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="k1", max_retries=0)
        assert [m.id for m in client.models.list()] == ["rag"]
        done = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": Q}])
        content = done.choices[0].message.content or ""
        assert "20%" in content and "[1]" in content and "**Sources**" in content
        citations = (done.model_extra or {})["citations"]
        assert citations[0]["source"].startswith("001_") and citations[0]["quote"] in content
        pieces = list(client.chat.completions.create(model="rag", messages=[{"role": "user", "content": Q}], stream=True))
        assert "".join(p.choices[0].delta.content or "" for p in pieces if p.choices) == content
        assert (pieces[-1].model_extra or {})["citations"] == citations
        kept = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": KEPT_Q}],
                                              extra_body={"sources": ["003_*", "004_*"]})
        kept_sources = {c["source"][:3] for c in (kept.model_extra or {})["citations"]}
        assert kept_sources and kept_sources <= {"003", "004"}
        with pytest.raises(openai.UnprocessableEntityError, match="no document matches the filters"):
            client.chat.completions.create(model="rag", messages=[{"role": "user", "content": Q}],
                                           extra_body={"sources": ["nothing-*"]})
        with pytest.raises(openai.UnprocessableEntityError, match="must end with a user message"):
            client.chat.completions.create(model="rag", messages=[{"role": "assistant", "content": "Hi."}])
        with pytest.raises(openai.AuthenticationError, match="missing or wrong API key"):
            openai.OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0).models.list()
