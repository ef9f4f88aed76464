"""ask(): retrieve -> generate -> verify -> Answer. The one call the CLI, the API and the eval make."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from rag import cite
from rag.config import Settings, get_settings
from rag.errors import InputError, LLMError
from rag.generate import REFUSAL, Draft, Extractive, Generator, OpenAICompatible, split_question
from rag.retrieve import Hit, Retriever

FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|what about|how about)\b|\b(he|she|it|they|him|her|its|his|their|them|this|that|these|those|there)\b",
    re.I,
)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str  # sentences with [n] markers naming `citations`
    refused: bool
    citations: list[cite.Citation]
    passages: list[dict[str, Any]]
    generator: str
    timings_ms: dict[str, float]
    standalone_question: str = ""  # the question as retrieved, after a follow-up was condensed
    claims: list[cite.Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Pipeline:
    """A retriever and a generator, with an optional offline fallback when the LLM fails."""

    def __init__(self, retriever: Retriever, generator: Generator, fallback: Generator | None = None,
                 settings: Settings | None = None) -> None:
        self.retriever, self.generator, self.fallback = retriever, generator, fallback
        self.settings = settings or get_settings()
        self._lock = threading.Lock()

    def ask(self, question: str, history: list[dict[str, str]] | None = None, k: int | None = None) -> Answer:
        """Answer `question` from the corpus, every sentence cited and checked."""
        k = self.settings.k if k is None else k
        self.check(question, history, k)
        t0 = time.perf_counter()
        standalone = self.condense(question.strip(), history or [])
        hits = self.retrieve(standalone, k)
        t1 = time.perf_counter()
        draft, notes = self._generate(standalone, hits)
        t2 = time.perf_counter()
        if draft.refused:
            verified = cite.Verified(REFUSAL, [], [], [])
        else:
            verified = cite.verify(draft.text, hits, self.retriever.embed)
        t3 = time.perf_counter()
        refused = draft.refused or not verified.citations
        ms = {"retrieve": t1 - t0, "generate": t2 - t1, "verify": t3 - t2, "total": t3 - t0}
        return Answer(
            question=question,
            answer=REFUSAL if refused else verified.answer,
            refused=refused,
            citations=[] if refused else verified.citations,
            passages=[h.public() for h in hits],
            generator=draft.generator,
            timings_ms={name: round(v * 1000, 2) for name, v in ms.items()},
            standalone_question=standalone,
            claims=[] if refused else verified.claims,
            notes=notes + verified.notes,
        )

    def retrieve(self, question: str, k: int) -> list[Hit]:
        """The passages to answer from; a question asking two things gets the best of each half too."""
        parts = split_question(question)
        if len(parts) == 1:
            return self.retriever.search(question, k)
        rankings = [self.retriever.search(q, k, sentences=False) for q in [question, *parts]]
        merged: dict[str, Hit] = {}
        for rank in range(k):
            for ranking in rankings:
                if rank < len(ranking) and len(merged) < k:
                    merged.setdefault(ranking[rank].id, ranking[rank])
        return self.retriever.with_sentences(list(merged.values()), question)  # scored once, for the kept hits

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        k = self.settings.k if k is None else k
        self.check(question, None, k)
        return self.retriever.search(question.strip(), k, sentences=False)

    def check(self, question: str, history: list[dict[str, str]] | None, k: int) -> None:
        """Refuse bad input with a message that says what is allowed."""
        s = self.settings
        if not isinstance(question, str) or not question.strip():
            raise InputError("the question is empty: ask something")
        if len(question) > s.max_question_chars:
            raise InputError(f"the question is {len(question)} characters long; the limit is {s.max_question_chars}")
        if not 1 <= k <= s.max_k:
            raise InputError(f"k must be between 1 and {s.max_k}, not {k}")
        if history and len(history) > s.max_history_turns:
            raise InputError(f"the history has {len(history)} turns; the limit is {s.max_history_turns}")
        for turn in history or []:
            if turn.get("role") not in ("user", "assistant") or not isinstance(turn.get("content"), str):
                raise InputError('each history turn needs "role" ("user" or "assistant") and "content" (text)')
            if len(turn["content"]) > 4 * s.max_question_chars:
                raise InputError(f"a history turn is longer than {4 * s.max_question_chars} characters")

    def condense(self, question: str, history: list[dict[str, str]]) -> str:
        """A follow-up ("and who led it?") made standalone with the previous question."""
        previous = [t["content"] for t in history if t.get("role") == "user"]
        if not previous or not FOLLOW_UP.search(question):
            return question
        if isinstance(self.generator, OpenAICompatible):
            from rag import prompts

            convo = "\n".join(f"{t['role']}: {t['content']}" for t in history[-6:])
            text = prompts.render(self.settings.prompts_dir, "condense", history=convo, question=question)
            try:
                rewritten = self.generator.complete([{"role": "user", "content": text}]).strip()
                if rewritten:
                    return rewritten.splitlines()[0][: self.settings.max_question_chars]
            except LLMError:
                pass
        return f"{previous[-1].rstrip()} {question}"

    def _generate(self, question: str, hits: list[Hit]) -> tuple[Draft, list[str]]:
        try:
            return self.generator.generate(question, hits), []
        except LLMError as e:
            if self.fallback is None:
                raise
            return self.fallback.generate(question, hits), [f"{self.generator.name} failed, answered offline: {e}"]


def build(settings: Settings | None = None, mode: str = "hybrid", progress: bool = False) -> Pipeline:
    """A pipeline from settings: the index (built when missing or stale), the models, the generator."""
    from rag import embed

    s = settings or get_settings()
    embedder = embed.load(s.embed_model)
    ix = open_index(s, embedder, progress)
    retriever = Retriever(ix, embedder, mode)
    documents = {name: d["text"] for name, d in ix.documents.items()}
    generator: Generator = Extractive(s.refusal_threshold, documents, retriever)
    fallback = None
    if s.llm_enabled:
        generator = OpenAICompatible(
            s.llm_model, s.prompts_dir, s.openai_base_url, s.openai_api_key, s.llm_timeout, s.llm_retries
        )
        if s.fallback == "extractive":
            fallback = Extractive(s.refusal_threshold, documents, retriever)
    return Pipeline(retriever, generator, fallback, s)


def open_index(s: Settings, embedder: Any, progress: bool = False) -> Any:
    """The index for the configured corpus, rebuilt first when missing, stale or corrupt (unless RAG_AUTO_INDEX=0)."""
    from rag import index
    from rag.errors import IndexError_

    state = index.status(s.corpus_dir, s.index_dir, embedder.name)
    if state != "fresh" and s.auto_index:
        index.build(s.corpus_dir, s.index_dir, embedder, s.index_kind, progress=progress, on_wait=lambda: None)
    try:
        return index.load(s.index_dir, embedder.name, embedder.dim)
    except IndexError_:
        if not s.auto_index:
            raise
        index.build(s.corpus_dir, s.index_dir, embedder, s.index_kind, progress=progress, on_wait=lambda: None)
        return index.load(s.index_dir, embedder.name, embedder.dim)


_default: Pipeline | None = None
_default_lock = threading.Lock()


def ask(question: str, history: list[dict[str, str]] | None = None) -> Answer:
    """Answer with the pipeline the environment configures, built on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = build()
    return _default.ask(question, history)
