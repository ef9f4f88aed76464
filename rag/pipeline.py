"""ask(): question -> split -> retrieve -> generate -> verify -> Answer. The one call the edges make."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from rag import answer_types, cite
from rag import text as T
from rag.config import Settings, get_settings
from rag.errors import InputError, LLMError
from rag.generate import REFUSAL, Draft, Generator
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

    def ask(self, question: str, history: list[dict[str, str]] | None = None, k: int | None = None) -> Answer:
        """Answer `question` from the corpus, every sentence cited and checked."""
        k = self.settings.k if k is None else k
        self.check(question, history, k)
        t0 = time.perf_counter()
        standalone = self.condense(question.strip(), history or [])
        parts = T.split_question(standalone)
        hits = self.retrieve(standalone, parts, k)
        t1 = time.perf_counter()
        draft, notes = self._generate(standalone, parts, hits)
        t2 = time.perf_counter()
        verified = cite.Verified(REFUSAL, [], [], []) if draft.refused else cite.verify(draft.text, hits, self.retriever.embed)
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

    def retrieve(self, question: str, parts: list[str], k: int) -> list[Hit]:
        """The passages to answer from, and the title or author line of their documents when a part asks for it."""
        hits = self.retriever.search(question, k, parts)
        kinds = {kind for part in parts if (t := answer_types.of(part)) for kind in t.kinds} - {"text"}
        meta = self.retriever.index.meta_of
        sources = dict.fromkeys(h.paragraph.source for h in hits)
        return hits + [Hit(meta[(s, kind)], 0.0) for s in sources for kind in sorted(kinds) if (s, kind) in meta]

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        k = self.settings.k if k is None else k
        self.check(question, None, k)
        return self.retriever.search(question.strip(), k)

    def check(self, question: str, history: list[dict[str, str]] | None, k: int) -> None:
        """Refuse bad input with a message that says what is allowed (the limits are the settings')."""
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
            if len(turn["content"]) > s.max_turn_chars:
                raise InputError(f"a history turn is longer than {s.max_turn_chars} characters")

    def condense(self, question: str, history: list[dict[str, str]]) -> str:
        """A follow-up ("and who led it?") made standalone with the previous question."""
        previous = [t["content"] for t in history if t.get("role") == "user"]
        if not previous or not FOLLOW_UP.search(question):
            return question
        complete = getattr(self.generator, "complete", None)
        if complete is not None:
            from rag import prompts

            convo = "\n".join(f"{t['role']}: {t['content']}" for t in history[-6:])
            text = prompts.render(self.settings.prompts_dir, "condense", history=convo, question=question)
            try:
                rewritten = complete([{"role": "user", "content": text}]).strip()
                if rewritten:
                    return str(rewritten.splitlines()[0][: self.settings.max_question_chars])
            except LLMError:
                pass
        return f"{previous[-1].rstrip()} {question}"

    def _generate(self, question: str, parts: list[str], hits: list[Hit]) -> tuple[Draft, list[str]]:
        try:
            return self.generator.generate(question, parts, hits), []
        except LLMError as e:
            if self.fallback is None:
                raise
            return self.fallback.generate(question, parts, hits), [f"{self.generator.name} failed, answered offline: {e}"]


def build(settings: Settings | None = None, mode: str = "hybrid", progress: bool = False) -> Pipeline:
    """A pipeline from settings: the index (built when missing or stale), the models, the generator."""
    from rag import embed, index, retrieve
    from rag.extractive import PRESETS, Extractive

    s = settings or get_settings()
    embedder = embed.load(s.embed_model)
    ix = index.open(s.corpus_dir, s.index_dir, embedder, s.index_kind, s.auto_index, progress)
    retriever = Retriever(ix, embed.Cached(embedder), mode)
    documents = {name: d["text"] for name, d in ix.documents.items()}
    if s.rules not in PRESETS:
        raise InputError(f"unknown RAG_RULES {s.rules!r}: choose one of {', '.join(PRESETS)}")
    rules = PRESETS[s.rules]()
    if s.refusal_threshold is not None:
        rules = replace(rules, threshold=s.refusal_threshold)
    offline = Extractive(retriever.embed, retrieve.idf(ix), documents, rules)
    if not s.llm_enabled:
        return Pipeline(retriever, offline, None, s)
    from rag.llm import OpenAICompatible

    llm = OpenAICompatible(s.llm_model, s.prompts_dir, s.openai_base_url, s.openai_api_key, s.llm_timeout, s.llm_retries)
    return Pipeline(retriever, llm, offline if s.fallback == "extractive" else None, s)
