"""Shared fixtures: the real bundled model and an index of the real seeds, built once per session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from rag import index, text
from rag.answer import pipeline
from rag.answer.retrieve import Hit
from rag.config import ROOT, Settings
from rag.index import embed
from rag.ingest.corpus import Paragraph

SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder() -> embed.Embedder:
    return embed.load()


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory, embedder: embed.Embedder) -> Path:
    folder = tmp_path_factory.mktemp("index")
    index.build(SEEDS, folder, embedder)
    return folder


@pytest.fixture(scope="session")
def settings(seeds_index: Path) -> Settings:
    return Settings(corpus_dir=SEEDS, index_dir=seeds_index, openai_api_key="", openai_base_url="", llm="extractive")


@pytest.fixture(scope="session")
def pipe(settings: Settings) -> pipeline.Pipeline:
    return pipeline.build(settings)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the seeds."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


class FakeEmbedder:
    """Deterministic and instant: a text's vector counts its words in 64 hashed buckets, unit length."""

    name, dim, precision = "fake", 64, "fp32"

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, t in enumerate(texts):
            for w in text.stems(t):
                out[row, zlib.crc32(w.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode(texts, progress)


@pytest.fixture
def fake_embed() -> embed.Cached:
    return embed.Cached(FakeEmbedder())


def hit(pid: str, body: str, title: str = "Town news", kind: str = "text") -> Hit:
    """A retrieved paragraph made up for a test: its document is `body` alone."""
    return Hit(Paragraph(pid, pid.split("#")[0], title, 0, len(body), body, kind), 0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def rag_serve(**env: str) -> Iterator[str]:
    """A real `rag serve` on a free loopback port with these RAG_* settings; its base URL. It must not print a
    traceback, and it is stopped at the end."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_API_KEY")}
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port)], env={**full, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("rag serve did not come up")
        yield base
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=60)
        assert b"Traceback" not in stderr, stderr.decode(errors="replace")[-2000:]
