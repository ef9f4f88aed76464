"""Settings read from the environment (prefix RAG_; OPENAI_* as the openai client reads them)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    corpus_dir: Path = ROOT / "seeds"  # folder of .txt/.md files, BEIR folder or JSONL file
    index_dir: Path = ROOT / "index"  # where built artifacts live
    prompts_dir: Path = ROOT / "prompts"
    embed_model: str = ""  # a local sentence-transformers folder; empty: the bundled model
    auto_index: bool = True  # build the index when it is missing or stale
    index_kind: str = "auto"  # flat | hnsw | ivf | auto
    k: int = 5  # passages retrieved per question
    rules: str = "seed-fitted"  # the offline answerer's rules: seed-fitted | measured (see BENCHMARKS.md)
    refusal_threshold: float | None = None  # below this evidence score the offline answerer refuses; None: the rules' own
    max_k: int = 50
    max_question_chars: int = 2000
    max_history_turns: int = 20
    max_body_bytes: int = 2_000_000  # fits the largest request the other limits allow
    # LLM (any OpenAI-compatible server); used when OPENAI_API_KEY or OPENAI_BASE_URL is set
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = 30.0  # seconds per request
    llm_retries: int = 2  # retries on 429, 5xx and connection errors, with backoff
    openai_api_key: str = Field("", validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str = Field("", validation_alias=AliasChoices("OPENAI_BASE_URL"))
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
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # the OPENAI_* fields are read from the environment
