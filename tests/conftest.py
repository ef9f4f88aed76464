"""Shared fixtures: the real bundled model and an index of the real seeds, built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import embed, index, pipeline
from rag.config import ROOT, Settings

SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder() -> embed.SentenceTransformerEmbedder:
    return embed.load()


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory, embedder: embed.SentenceTransformerEmbedder) -> Path:
    folder = tmp_path_factory.mktemp("index")
    index.build(SEEDS, folder, embedder)
    return folder


@pytest.fixture(scope="session")
def settings(seeds_index: Path) -> Settings:
    return Settings(corpus_dir=SEEDS, index_dir=seeds_index, openai_api_key="", openai_base_url="")


@pytest.fixture(scope="session")
def pipe(settings: Settings) -> pipeline.Pipeline:
    return pipeline.build(settings)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the seeds."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder
