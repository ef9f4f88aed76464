"""Settings read from the environment (prefix RAG_; OPENAI_* as the openai client reads them)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"  # the bundled local model, which `make setup-llm` assembles


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    corpus_dir: Path = ROOT / "seeds"  # folder of .txt/.md files, BEIR folder or JSONL file
    index_dir: Path = ROOT / "index"  # where built artifacts live
    prompts_dir: Path = ROOT / "prompts"
    embed_model: str = ""  # a local sentence-transformers folder; empty: the bundled model
    embed_precision: str = "int8"  # the bundled model's weights for the paragraphs indexed: int8 | fp32; questions are fp32 (BENCHMARKS.md)
    auto_index: bool = True  # build the index when it is missing or stale
    index_kind: str = "auto"  # flat | hnsw | ivf | auto
    store: str = "faiss"  # faiss (in the process) | milvus (a collection at RAG_MILVUS_URI)
    milvus_uri: str = ""  # empty: a Milvus Lite file, <index>/milvus.db; http://host:19530 for a server
    milvus_token: str = ""  # user:password or an API key, for a server that needs one
    k: int = 5  # passages retrieved per question
    rules: str = "seed-fitted"  # the offline answerer: seed-fitted | reader (learned) | measured (see BENCHMARKS.md)
    verify: str = "rules"  # how a claim's meaning is checked: rules | learned (rag/models/checker/) | model (rules, then the model asked)
    refusal_threshold: float | None = None  # below this evidence score the offline answerer refuses; None: the rules' own
    max_k: int = 50
    max_question_chars: int = 2000
    max_check_chars: int = 100_000  # a text given to `rag check` or POST /check
    max_history_turns: int = 20
    max_body_bytes: int = 2_000_000  # fits the largest request the other limits allow
    max_upload_bytes: int = 10 * 2**20  # a document added through POST /documents
    # Who answers: extractive (offline, no model), local (the bundled model via llama.cpp, `make setup-llm`) or
    # openai (any OpenAI-compatible server at OPENAI_BASE_URL); empty: openai when OPENAI_* is set, else extractive
    llm: str = ""
    llm_design: str = "evidence"  # how an LLM answers: free | evidence | judge (see BENCHMARKS.md)
    llm_evidence: int = 6  # evidence design: the ranker's best sentences the model reads, 1 to 20 (see BENCHMARKS.md)
    llm_check: bool = False  # evidence and judge designs: refuse also when the model says no to the ranker's best sentence
    model_path: Path = ROOT / "models" / MODEL_FILE
    llm_threads: int = Field(default_factory=cores)
    llm_context: int = 4096  # tokens per request for the local model
    llm_parallel: int = 2  # requests the local model serves at once
    llm_max_tokens: int = 256  # longest answer a model may write
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = 30.0  # seconds per request
    llm_retries: int = 2  # retries on 429, 5xx and connection errors, with backoff
    openai_api_key: str = Field(default="", validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str = Field(default="", validation_alias=AliasChoices("OPENAI_BASE_URL"))
    fallback: str = ""  # "extractive": answer offline when the LLM fails
    # API
    api_key: str = ""  # when set, every endpoint but /health needs Authorization: Bearer <key>
    cors_origins: list[str] = []
    log_questions: bool = False

    @property
    def max_turn_chars(self) -> int:
        """A history turn may hold an answer, so four questions' worth."""
        return 4 * self.max_question_chars

    @property
    def answerer(self) -> str:
        """extractive, local or openai: RAG_LLM, or openai when an OpenAI-compatible server is configured."""
        return self.llm or ("openai" if self.openai_api_key or self.openai_base_url else "extractive")


@lru_cache
def get_settings() -> Settings:
    return Settings()
