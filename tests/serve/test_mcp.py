from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import TextContent
from pydantic import AnyUrl

from rag.answer.pipeline import Pipeline
from rag.config import Settings
from rag.serve import mcp_server
from tests.conftest import rag_serve

Q = "What percentage of Kazakhstan's people belong to the Russian minority?"
TOOLS = {"search", "ask", "check", "get_source", "list_documents"}


def run(test: Callable[[ClientSession], Awaitable[None]], session: Callable[[], Any]) -> None:
    async def main() -> None:
        async with session() as client:
            await test(client)

    anyio.run(main)


def in_memory(pipe: Pipeline) -> Callable[[], Any]:
    server = mcp_server.build(pipe.settings, lambda: pipe)
    return lambda: create_connected_server_and_client_session(server._mcp_server)


async def cited_answer(client: ClientSession) -> None:
    """What every transport must give: the tools listed and a cited answer from `ask`."""
    assert {t.name for t in (await client.list_tools()).tools} >= TOOLS
    result = await client.call_tool("ask", {"question": Q})
    answer = result.structuredContent or {}
    assert not result.isError and not answer["refused"] and "20%" in answer["answer"] and "[1]" in answer["answer"]
    assert answer["citations"][0]["source"].startswith("001_") and answer["citations"][0]["quote"]
    assert answer["short_answer"]["text"] == "20%" and answer["short_answer"]["marker"] == 1


def test_tools_in_memory(pipe: Pipeline) -> None:
    async def test(client: ClientSession) -> None:
        await cited_answer(client)
        hits = (await client.call_tool("search", {"question": "CSTO force units", "k": 2})).structuredContent or {}
        assert len(hits["hits"]) == 2
        para = (await client.call_tool("get_source", {"id": hits["hits"][0]["id"]})).structuredContent or {}
        assert para["text"] == hits["hits"][0]["text"]
        checked = (await client.call_tool("check", {"text": para["text"]})).structuredContent or {}
        assert checked["sentences"] and any(sentence["supported"] for sentence in checked["sentences"])
        docs = (await client.call_tool("list_documents", {})).structuredContent or {}
        assert any(d["name"].startswith("001_") for d in docs["documents"])

    run(test, in_memory(pipe))


def test_documents_are_resources(pipe: Pipeline) -> None:
    async def test(client: ClientSession) -> None:
        resources = (await client.list_resources()).resources
        assert len(resources) == len(pipe.retriever.index.by_source)
        doc = next(r for r in resources if r.name == "004_1ab97ee52b3e3350.txt")
        assert doc.title == "Kazakhstan continues friendship with Russia"
        content = (await client.read_resource(doc.uri)).contents[0]
        assert getattr(content, "text", "").startswith("Kazakhstan continues friendship with Russia")

    run(test, in_memory(pipe))


@pytest.mark.parametrize("tool, args, message", [
    ("ask", {"question": "  "}, "the question is empty: ask something"),
    ("get_source", {"id": "nope"}, "no paragraph with id 'nope'"),
    ("search", {"question": "x", "k": 0}, "k must be between 1 and"),
])
def test_errors_carry_the_message(pipe: Pipeline, tool: str, args: dict[str, Any], message: str) -> None:
    async def test(client: ClientSession) -> None:
        result = await client.call_tool(tool, args)
        text = result.content[0]
        assert result.isError and isinstance(text, TextContent) and message in text.text

    run(test, in_memory(pipe))


def test_unknown_document_is_an_error(pipe: Pipeline) -> None:
    async def test(client: ClientSession) -> None:
        with pytest.raises(Exception, match="no document named 'nope.txt'"):
            await client.read_resource(AnyUrl("rag://documents/nope.txt"))

    run(test, in_memory(pipe))


@asynccontextmanager
async def stdio(settings: Settings) -> AsyncIterator[ClientSession]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env |= {"RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir), "RAG_LLM": "extractive"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "rag", "mcp"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        yield client


@asynccontextmanager
async def http(url: str, key: str) -> AsyncIterator[ClientSession]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as h, \
            streamable_http_client(url, http_client=h) as (read, write, _), ClientSession(read, write) as client:
        await client.initialize()
        yield client


@pytest.mark.slow
def test_real_rag_mcp_on_stdio(settings: Settings) -> None:
    run(cited_answer, lambda: stdio(settings))


@pytest.mark.slow
def test_real_rag_serve_over_http(settings: Settings) -> None:
    env = {"RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir), "RAG_API_KEY": "k1"}
    with rag_serve(**env) as base:
        run(cited_answer, lambda: http(f"{base}/mcp", "k1"))
        r = httpx.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert r.status_code == 401


def test_http_mcp_survives_a_second_start_of_the_app(pipe: Pipeline) -> None:
    from fastapi.testclient import TestClient

    from rag.serve import api

    app = api.create_app(pipe.settings, pipe)
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    for _ in range(2):
        with TestClient(app, base_url="http://127.0.0.1:8000") as c:
            r = c.post("/mcp", json=init, headers={"Accept": "application/json, text/event-stream"})
            assert r.status_code == 200 and r.json()["result"]["serverInfo"]["name"] == "rag"
