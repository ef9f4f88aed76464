from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time

import pytest

from rag.config import Settings

pytestmark = pytest.mark.slow  # subprocesses or a server on loopback


def _env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir)}
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    return env


def _rag(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag", *args], input=stdin, capture_output=True, text=True,
                          env=_env(settings), timeout=300)


def test_search_json_ranks_the_csto_paragraph_first(settings: Settings) -> None:
    r = _rag(settings, "search", "--json", "Which countries sent units to the CSTO force in Kazakhstan?")
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)["hits"]
    assert hits[0]["source"].startswith("001_") and "Belarus, Armenia, Tajikistan, Kyrgyzstan and Russia" in hits[0]["text"]


def test_ask_batch_reads_stdin(settings: Settings) -> None:
    r = _rag(settings, "ask", "--json", "-", stdin="What percentage of Kazakhstan's people belong to the Russian minority?\n\nWhich team won the 2018 Tour de France?\n")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # no model-loading bar or warning ahead of the answers
    first, second = (json.loads(line) for line in r.stdout.splitlines())
    assert "20%" in first["answer"] and first["citations"][0]["source"].startswith("001_")
    assert second["refused"] and second["citations"] == []


@pytest.mark.parametrize("question", ["  ", ""])
def test_empty_question_is_a_clear_error(settings: Settings, question: str) -> None:
    r = _rag(settings, "ask", question)
    assert r.returncode == 2 and "error: the question is empty" in r.stderr and "Traceback" not in r.stderr


def test_chat_in_a_terminal_answers_a_follow_up(settings: Settings) -> None:
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [sys.executable, "-m", "rag", "chat"], _env(settings))
    out = b""

    def read_until(marker: bytes, limit: float = 120) -> None:
        nonlocal out
        end = time.monotonic() + limit
        while marker not in out and time.monotonic() < end:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break

    read_until(b"> ")
    os.write(fd, b"Which Chinese leader promised to guarantee Kazakhstan's sovereignty?\n")
    read_until(b"Xi Jinping")
    os.write(fd, b"and what did the Kremlin call it?\n:sources\n:quit\n")
    read_until(b"Sources", 60)
    os.waitpid(pid, 0)
    assert b"Xi Jinping" in out and b"Sources" in out


@pytest.mark.parametrize(("command", "names"), [
    (["ask"], ["RAG_LLM;", "RAG_CORPUS_DIR;", "RAG_INDEX_DIR;"]),
    (["index"], ["RAG_INDEX_KIND]"]),
    (["model", "serve"], ["RAG_LLM_THREADS;"]),
])
def test_help_names_the_environment_variable_of_each_option(command: list[str], names: list[str]) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    r = CliRunner().invoke(app, [*command, "--help"], terminal_width=200)
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    for name in names:
        assert f"[env {name}" in text, text
