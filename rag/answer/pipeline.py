"""ask(): question -> split -> retrieve -> generate -> verify -> Answer. The one call the edges make."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from rag import text as T
from rag.answer import answer_types, short
from rag.answer import verify as V
from rag.answer.extractive import Extractive
from rag.answer.generate import REFUSAL, Draft, Generator, OnDraft, OnToken, Unavailable
from rag.answer.retrieve import Filter, Hit, Retriever
from rag.config import Settings, get_settings
from rag.errors import InputError, LLMError

CONTINUES = re.compile(r"^\W*(and|but|also|so|what about|how about)\b", re.I)
# A question must hold a character that str.strip() keeps. JSON Schema's \s leaves out some that it drops
# (\x1c-\x1f, \x85); they are named, so that what the API's schema calls valid, `check` accepts.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"
POINTS_BACK = re.compile(r"\b(he|she|it|they|him|her|its|his|their|them|there|this|these|those)\b", re.I)


def is_follow_up(question: str) -> bool:
    """Whether a question leans on the conversation: it opens with "and", "what about", ..., or points back
    with a pronoun and names nothing of its own.

    >>> [is_follow_up(q) for q in ("and who led it?", "Who led it?", "Why did Tokayev say it?", "Where is Oslo?")]
    [True, True, False, False]
    """
    if CONTINUES.search(question):
        return True
    return bool(POINTS_BACK.search(question)) and not any(w[:1].isupper() for w in T.WORD.findall(question)[1:])


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str  # sentences with [n] markers naming `citations`
    refused: bool
    citations: list[V.Citation]
    passages: list[dict[str, Any]]
    generator: str
    timings_ms: dict[str, float]
    standalone_question: str = ""  # the question as retrieved, after a follow-up was condensed
    claims: list[V.Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    draft: str = ""  # what the generator wrote (and streamed) before verification
    short_answer: short.ShortAnswer | None = None  # for a factoid question, the words of the first quote that answer it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Pipeline:
    """A retriever and a generator, with an optional offline fallback when the LLM fails."""

    def __init__(self, retriever: Retriever, generator: Generator, fallback: Generator | None = None,
                 settings: Settings | None = None, judge: Any = None) -> None:
        self.retriever, self.generator, self.fallback = retriever, generator, fallback
        self.settings = settings or get_settings()
        self.checks = "rules" if self.settings.verify == "model" else self.settings.verify  # RAG_VERIFY's checker
        self.judge = judge  # with RAG_VERIFY=model, a judge.ModelJudge over the configured model

    def refresh(self) -> Any:
        """Rebuild the index after the corpus changed (only new paragraphs are embedded) and answer from it.

        The new build is swapped in with one assignment per holder, so a question in flight keeps a whole index.
        """
        from rag import index
        from rag.answer import retrieve
        from rag.index import embed

        s = self.settings
        embedder = embed.load(s.embed_model, s.embed_precision)
        report = index.build(s.corpus_dir, s.index_dir, embedder, s.index_kind, where=index.Where.of(s))
        ix = index.load(s.index_dir, embedder.name, embedder.dim, index.Where.of(s))
        documents, idf = {name: d["text"] for name, d in ix.documents.items()}, retrieve.idf(ix)
        dates = {name: d["date"] for name, d in ix.documents.items() if d.get("date")}
        for holder in (self.generator, self.fallback, getattr(self.generator, "ranker", None)):
            if isinstance(holder, Extractive):
                holder.idf, holder.documents, holder.dates = idf, documents, dates
        self.retriever.index = ix
        return report

    @property
    def drafts(self) -> bool:
        """Whether the generator writes a draft of its own (a model) rather than choosing corpus sentences."""
        return not isinstance(self.generator, Extractive)

    def ask(self, question: str, history: list[dict[str, str]] | None = None, k: int | None = None,
            on_token: OnToken | None = None, on_offline: Callable[[V.Verified], None] | None = None,
            filters: Filter | None = None) -> Answer:
        """Answer `question` from the corpus, every sentence cited and checked; the draft streams to `on_token`.

        With a model reading the offline ranker's choice, that choice, verified, goes to `on_offline` before the
        model writes, so that a user reads an answer at once; the model's verified answer replaces it."""
        k = self.settings.k if k is None else k
        self.check(question, history, k)
        t0 = time.perf_counter()
        standalone = self.retriever.respell(self.condense(question.strip(), history or []))
        parts = T.split_question(standalone)
        hits = self.retrieve(standalone, parts, k, filters)  # only from the documents `filters` keeps
        t1 = time.perf_counter()
        draft, notes = self._generate(standalone, parts, hits, on_token, self._offline(on_offline, hits, standalone))
        t2 = time.perf_counter()
        verified = self.verify(draft, hits, standalone)
        t3 = time.perf_counter()
        refused = draft.refused or not verified.citations
        ms = {"retrieve": t1 - t0, "generate": t2 - t1, "verify": t3 - t2, "total": t3 - t0}
        if (spent := getattr(self.generator, "take_timings", None)) is not None:  # the model server's own split
            ms |= {f"llm_{name}": v / 1000 for name, v in spent().items()}
        return Answer(
            question=question,
            answer=REFUSAL if refused else verified.answer,
            refused=refused,
            citations=[] if refused else self._dated(verified.citations),
            passages=[h.public() | {"date": self._date(h.paragraph.source)} for h in hits],
            generator=draft.generator,
            timings_ms={name: round(v * 1000, 2) for name, v in ms.items()},
            standalone_question=standalone,
            claims=[] if refused else verified.claims,
            notes=notes + verified.notes + ([] if refused else V.disagreements(self._dated(verified.citations))),
            draft=draft.text,
            short_answer=None if refused else short.mark(standalone, verified.citations),
        )

    def _date(self, source: str) -> str:
        return self.retriever.index.documents.get(source, {}).get("date", "")

    def _dated(self, citations: list[V.Citation]) -> list[V.Citation]:
        return [self.dated(c) for c in citations]

    def dated(self, citation: V.Citation) -> V.Citation:
        """`citation` with its document's publication date, when known."""
        return replace(citation, date=self._date(citation.source))

    def verify(self, draft: Draft, hits: list[Hit], question: str = "") -> V.Verified:
        """The draft's citations checked. A model's sentence that no passage supports is dropped; when none is
        left, the corpus sentences the draft was written from answer instead, or the answer is a refusal."""
        if draft.refused:
            return V.Verified(REFUSAL, [], [], [])
        verified = self.checked(draft.text, hits, question)
        if draft.text == draft.verbatim:  # corpus sentences: an unsupported one stays, flagged
            return verified
        kept = V.supported_only(verified)
        if kept.claims or not draft.verbatim:
            return kept
        fallback = self.checked(draft.verbatim, hits)
        return replace(fallback, notes=kept.notes + ["no sentence of the model's answer could be verified: "
                                                      "answered with the corpus sentences it was given"])

    def checked(self, text: str, hits: list[Hit], question: str = "") -> V.Verified:
        """`text` checked against `hits` as RAG_VERIFY says: the checks, then, with `model`, the model's reading."""
        verified = V.verify(text, hits, self.retriever.embed, question, self.checks)
        return verified if self.judge is None else self.judge.judged(verified, hits)

    def retrieve(self, question: str, parts: list[str], k: int, filters: Filter | None = None) -> list[Hit]:
        """The passages to answer from, and the title or author line of their documents when a part asks for it."""
        hits = self.retriever.carried_on(self.retriever.search(question, k, parts, filters))
        kinds = {kind for part in parts if (t := answer_types.of(part)) for kind in t.kinds} - {"text"}
        meta = self.retriever.index.meta_of
        sources = dict.fromkeys(h.paragraph.source for h in hits)
        return hits + [Hit(meta[(s, kind)], 0.0) for s in sources for kind in sorted(kinds) if (s, kind) in meta]

    def search(self, question: str, k: int | None = None, filters: Filter | None = None) -> list[Hit]:
        k = self.settings.k if k is None else k
        self.check(question, None, k)
        return self.retriever.search(self.retriever.respell(question.strip()), k, filters=filters)

    def check(self, question: str, history: list[dict[str, str]] | None, k: int) -> None:
        """Refuse bad input with a message that says what is allowed (the limits are the settings')."""
        s = self.settings
        if not isinstance(question, str) or not re.search(NOT_BLANK, question):
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
        if not previous or not is_follow_up(question):
            return question
        complete = getattr(self.generator, "complete", None)
        if complete is not None:  # the model rewrites it; only the previous question is shown, not the answers
            from rag.answer import prompts

            text = prompts.render(self.settings.prompts_dir, "condense", previous=previous[-1], question=question)
            try:
                rewritten = complete([{"role": "user", "content": text}], max_tokens=64).strip()
                if rewritten:
                    return str(rewritten.splitlines()[0][: self.settings.max_question_chars])
            except LLMError:
                pass
        return f"{previous[-1].rstrip()} {question}"

    def _offline(self, show: Callable[[V.Verified], None] | None, hits: list[Hit], question: str) -> OnDraft | None:
        """What hands the ranker's answer, verified and dated, to `show`; one that does not verify is not shown."""
        if show is None:
            return None

        def verified(draft: Draft) -> None:
            checked = self.verify(draft, hits, question)
            if checked.citations:
                show(replace(checked, citations=self._dated(checked.citations)))

        return verified

    def _generate(self, question: str, parts: list[str], hits: list[Hit], on_token: OnToken | None,
                  on_offline: OnDraft | None = None) -> tuple[Draft, list[str]]:
        try:
            return self.generator.generate(question, parts, hits, on_token, on_offline), []
        except LLMError as e:
            if self.fallback is None:
                raise
            return self.fallback.generate(question, parts, hits), [f"{self.generator.name} failed, answered offline: {e}"]


ANSWERERS = ("extractive", "local", "openai")  # RAG_LLM / --llm
VERIFIERS = ("rules", "learned", "model")  # RAG_VERIFY


def build(settings: Settings | None = None, mode: str = "hybrid", progress: bool = False) -> Pipeline:
    """A pipeline from settings: the index (built when missing or stale), the models, the generator."""
    from rag import index
    from rag.answer import cross, judge, reader, retrieve
    from rag.answer.rules import PRESETS
    from rag.index import embed

    s = settings or get_settings()
    if s.answerer not in ANSWERERS:
        raise InputError(f"unknown RAG_LLM {s.llm!r}: choose one of {', '.join(ANSWERERS)}")
    if s.rules not in PRESETS:
        raise InputError(f"unknown RAG_RULES {s.rules!r}: choose one of {', '.join(PRESETS)}")
    if s.verify not in VERIFIERS:
        raise InputError(f"unknown RAG_VERIFY {s.verify!r}: choose one of {', '.join(VERIFIERS)}")
    if s.verify == "model" and s.answerer == "extractive":
        raise InputError("RAG_VERIFY=model needs a model to ask: set RAG_LLM to local or openai")
    embedder = embed.load(s.embed_model, s.embed_precision)
    ix = index.open(s.corpus_dir, s.index_dir, embedder, s.index_kind, s.auto_index, progress, index.Where.of(s))
    retriever = Retriever(ix, embed.Cached(embedder), mode)
    rules = PRESETS[s.rules]()
    if s.refusal_threshold is not None:
        rules = replace(rules, threshold=s.refusal_threshold)
    documents = {name: d["text"] for name, d in ix.documents.items()}
    dates = {name: d["date"] for name, d in ix.documents.items() if d.get("date")}
    reading = embed.Cached(reader.encoder()) if rules.reader is not None and not rules.cross else None
    crossing = cross.encoder() if rules.cross else None
    offline = Extractive(retriever.embed, retrieve.idf(ix), documents, dates=dates, rules=rules, reader_embed=reading,
                         cross_model=crossing)
    if s.answerer == "extractive":
        return Pipeline(retriever, offline, None, s)
    fallback = offline if s.fallback == "extractive" else None
    try:
        generator = llm_generator(s, offline)
    except LLMError as e:  # the model server did not start: an error, or the offline answer when asked for
        if fallback is None:
            raise
        generator = Unavailable(s.answerer, e)
    model = getattr(generator, "llm", generator)  # a design's model, or the free design itself
    return Pipeline(retriever, generator, fallback, s, judge.ModelJudge(model) if s.verify == "model" and hasattr(model, "client") else None)


def llm_generator(s: Settings, ranker: Extractive) -> Generator:
    """The LLM generator of the configured design, on the local model or an OpenAI-compatible server."""
    from rag.answer.designs import DESIGNS, MOST_EVIDENCE, EvidenceFirst
    from rag.answer.llm import OpenAICompatible

    if s.llm_design not in DESIGNS:
        raise InputError(f"unknown RAG_LLM_DESIGN {s.llm_design!r}: choose one of {', '.join(DESIGNS)}")
    if not 1 <= s.llm_evidence <= MOST_EVIDENCE:
        raise InputError(f"RAG_LLM_EVIDENCE must be between 1 and {MOST_EVIDENCE}, not {s.llm_evidence}")
    if s.answerer == "local":
        from rag.answer import local_server

        server = local_server.server(s.model_path, s.llm_threads, s.llm_context, s.llm_parallel)
        llm = OpenAICompatible("local", s.prompts_dir, server.base_url, "", s.llm_timeout, 0, server.name, s.llm_max_tokens)
    else:
        llm = OpenAICompatible(s.llm_model, s.prompts_dir, s.openai_base_url, s.openai_api_key, s.llm_timeout,
                               s.llm_retries, max_tokens=s.llm_max_tokens)
    design = DESIGNS[s.llm_design]
    if design is None:
        return llm
    return design(llm, ranker, s.prompts_dir, s.llm_check, s.llm_evidence if design is EvidenceFirst else None)
