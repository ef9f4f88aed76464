"""The bodies of POST /ask, /search and /check, their limits taken from the settings so that the schema publishes them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.answer.pipeline import NOT_BLANK
from rag.answer.retrieve import Filter
from rag.config import Settings

EXAMPLE = "Units from which countries were in the CSTO force?"
MAX_SOURCES = 100  # names or patterns in one filter


class Filtered(BaseModel):
    """The filters a body may carry: a publication date range and the documents by name or pattern."""

    date_from: date | None = Field(None, examples=["2022-01-01"],
                                  description="Only documents published on or after this date (YYYY-MM-DD).")
    date_to: date | None = Field(None, examples=["2022-12-31"],
                                description="Only documents published on or before this date (YYYY-MM-DD).")
    sources: list[str] | None = Field(None, max_length=MAX_SOURCES, examples=[["bbc-*"]],
                                      description="Only these documents: names or glob patterns (`bbc-*`).")

    def filters(self) -> Filter | None:
        """The filter the body asks for, or None."""
        day = lambda d: d.isoformat() if d else None  # noqa: E731
        return Filter.of(day(self.date_from), day(self.date_to), self.sources) or None


def request_models(s: Settings) -> tuple[type[BaseModel], type[BaseModel]]:
    """The /ask and /search bodies."""

    class Turn(BaseModel):
        model_config = ConfigDict(extra="forbid")
        role: Literal["user", "assistant"] = Field(examples=["user"])
        content: str = Field(max_length=s.max_turn_chars, examples=[EXAMPLE])

    class AskRequest(Filtered):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": EXAMPLE, "k": 5}]})
        question: str = Field(min_length=1, max_length=s.max_question_chars, pattern=NOT_BLANK, description="The question.")
        history: list[Turn] | None = Field(None, max_length=s.max_history_turns,
                                           description="Earlier turns, oldest first, for follow-up questions.")
        k: int | None = Field(None, ge=1, le=s.max_k, description="Passages to retrieve.")
        stream: bool = Field(False, description="Answer as Server-Sent Events: deltas, citations, then the whole answer.")

    class SearchRequest(Filtered):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": EXAMPLE, "k": 5}]})
        question: str = Field(min_length=1, max_length=s.max_question_chars, pattern=NOT_BLANK)
        k: int = Field(5, ge=1, le=s.max_k)

    return AskRequest, SearchRequest


def check_model(s: Settings) -> type[BaseModel]:
    """The /check body."""

    class CheckRequest(Filtered):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "Kazakhstan borders Russia."}]})
        text: str = Field(min_length=1, max_length=s.max_check_chars, pattern=NOT_BLANK,
                          description="The text to check; full stops and line breaks end its sentences.")
        k: int | None = Field(None, ge=1, le=s.max_k, description="Passages to retrieve for each sentence.")

    return CheckRequest
