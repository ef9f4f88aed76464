"""The filters as MCP tools' arguments."""

from __future__ import annotations

from mcp import ClientSession
from mcp.types import TextContent

from rag.answer.pipeline import Pipeline
from tests.serve.test_mcp import Q, in_memory, run


def test_search_ask_and_check_take_the_filters(pipe: Pipeline) -> None:
    async def test(client: ClientSession) -> None:
        kept = {"sources": ["003_*", "004_*"]}
        hits = (await client.call_tool("search", {"question": Q, "k": 3, **kept})).structuredContent or {}
        assert len(hits["hits"]) == 3 and all(h["source"][:3] in ("003", "004") for h in hits["hits"])
        answer = (await client.call_tool("ask", {"question": Q, **kept})).structuredContent or {}
        assert all(c["source"][:3] in ("003", "004") for c in answer["citations"])
        checked = await client.call_tool("check", {"text": "Russians live in Kazakhstan.", **kept})
        assert not checked.isError
        for tool, args in (("search", {"question": Q}), ("ask", {"question": Q}), ("check", {"text": Q})):
            result = await client.call_tool(tool, {**args, "date_from": "2030-01-01"})
            text = result.content[0]
            assert result.isError and isinstance(text, TextContent)
            assert "no document matches the filters: from 2030-01-01" in text.text

    run(test, in_memory(pipe))
