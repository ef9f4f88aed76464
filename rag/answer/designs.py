"""Designs (b) and (c) for a small LLM: the extractive ranker finds the evidence, the model only reads it.

(b) `EvidenceFirst`: the ranker's best sentences, numbered, are all the model sees; it writes a
    short direct answer citing them. The prompt is a tenth of a passages prompt.
(c) `Judge`: the model answers yes or no for each of the ranker's best sentences; the answer is
    the sentences it accepts, verbatim.

Both refuse when the ranker refuses (its threshold is calibrated on public data), so a refusal
stays a refusal; with `check` (off by default), also when the model says the ranker's best sentence
does not state the answer. Both hand the ranker's verbatim answer on for when the model's does not verify.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.answer import prompts
from rag.answer.extractive import Extractive
from rag.answer.generate import REFUSAL, Draft, OnDraft, OnToken
from rag.answer.llm import OpenAICompatible, is_refusal
from rag.answer.retrieve import Hit, Sentence

MOST_EVIDENCE = 20  # RAG_LLM_EVIDENCE's upper bound: 20 sentences stay well inside the model's context
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass(frozen=True)
class Candidate:
    n: int  # the hit it comes from, 1-based
    sentence: Sentence
    title: str


def candidates(ranker: Extractive, parts: Sequence[str], hits: list[Hit], most: int) -> list[Candidate]:
    """The ranker's best sentences over all parts, taken in turns, without repeats, in document order per hit."""
    ranked = [ranker.score(part, hits) for part in parts]
    out: dict[tuple[int, int], Candidate] = {}
    for i in range(most):
        for ranking in ranked:
            if i < len(ranking) and len(out) < most:
                x = ranking[i]
                out.setdefault((x.n, x.sentence.start), _candidate(x.n, x.sentence, hits))
    return list(out.values())


def _candidate(n: int, sentence: Sentence, hits: list[Hit]) -> Candidate:
    return Candidate(n, sentence, hits[n - 1].paragraph.title)


def to_hits(reply: str, evidence: list[Candidate]) -> str:
    """The reply's evidence markers [e] as the markers [n] of the hits those sentences come from.

    >>> s = Sentence(0, 1, "x")
    >>> to_hits("A [2]. B [1, 3]. C [9].", [Candidate(4, s, ""), Candidate(1, s, ""), Candidate(4, s, "")])
    'A [1]. B [4]. C [9].'
    """

    def hits_of(m: re.Match[str]) -> str:
        numbers = [int(x) for x in re.findall(r"\d+", m.group(1))]
        mapped = dict.fromkeys(evidence[e - 1].n if 1 <= e <= len(evidence) else 10_000 + e for e in numbers)
        return "[" + ", ".join(str(n if n < 10_000 else n - 10_000) for n in mapped) + "]"

    return MARKER.sub(hits_of, reply)


class _OnRanker:
    """A model that reads what the extractive ranker found; it also rewrites follow-ups (`complete`)."""

    design = ""
    most = 6  # the ranker's best sentences the model reads; `most` given to the constructor overrides it

    def __init__(self, llm: OpenAICompatible, ranker: Extractive, prompts_dir: Path, check: bool = False,
                 most: int | None = None) -> None:
        self.llm, self.ranker, self.prompts_dir, self.check = llm, ranker, prompts_dir, check
        self.most = self.most if most is None else most
        self.name = f"{llm.name} ({self.design})"
        self.complete, self.take_timings = llm.complete, llm.take_timings

    def generate(self, question: str, parts: Sequence[str], hits: list[Hit], on_token: OnToken | None = None,
                 on_offline: OnDraft | None = None) -> Draft:
        raise NotImplementedError

    def screened(self, question: str, parts: Sequence[str], hits: list[Hit], on_offline: OnDraft | None = None) -> Draft | None:
        """The ranker's answer, or None to refuse: when the ranker refuses, or (with `check`) when the model
        says no to the ranker's best sentence for every part of the question. An answer goes to `on_offline`
        before the model writes, so that it can be shown meanwhile.

        The ranker's threshold lets near misses through, sentences that hold the question's words but
        not the detail asked. On SQuAD 2.0 the model's no to the best sentence turns down more of them
        than a higher threshold would at the same cost in answers; on RGB's terse news questions it
        turns down fewer, and more right answers, so it is off by default (BENCHMARKS.md).
        """
        offline = self.ranker.generate(question, parts, hits)
        if offline.refused or (self.check and not self._confirmed(question, parts, hits)):
            return None
        if on_offline is not None:
            on_offline(offline)
        return offline

    def _confirmed(self, question: str, parts: Sequence[str], hits: list[Hit]) -> bool:
        for part in parts:
            best = self.ranker.score(part, hits)[:1]
            if best and self.accepts(question if len(parts) == 1 else part, _candidate(best[0].n, best[0].sentence, hits)):
                return True
        return False

    def accepts(self, question: str, c: Candidate) -> bool:
        """Whether the model says that sentence `c` states the answer to `question`."""
        text = prompts.render(self.prompts_dir, "judge", question=question, title=prompts.quote(c.title),
                              sentence=prompts.quote(c.sentence.text))
        reply = self.llm.complete([{"role": "user", "content": text}], max_tokens=3)
        return reply.strip().lower().startswith("yes")


class EvidenceFirst(_OnRanker):
    """(b): the model writes a short answer from the ranker's numbered sentences alone."""

    design = "evidence-first"

    def messages(self, question: str, evidence: list[Candidate]) -> list[dict[str, str]]:
        lines = "\n".join(f"[{e}] ({prompts.quote(c.title)}) {prompts.quote(c.sentence.text)}" for e, c in enumerate(evidence, 1))
        return [
            {"role": "system", "content": prompts.render(self.prompts_dir, "evidence_system", refusal=REFUSAL)},
            {"role": "user", "content": prompts.render(self.prompts_dir, "evidence", evidence=lines, question=question)},
        ]

    def generate(self, question: str, parts: Sequence[str], hits: list[Hit], on_token: OnToken | None = None,
                 on_offline: OnDraft | None = None) -> Draft:
        offline = self.screened(question, parts, hits, on_offline)
        if offline is None:
            return Draft(REFUSAL, True, self.name)
        evidence = candidates(self.ranker, parts, hits, self.most)
        reply = self.llm.complete(self.messages(question, evidence), on_token)
        if is_refusal(reply):  # the model saw no answer in evidence the ranker trusted: answer with the ranker's
            return Draft(offline.text, False, self.name, verbatim=offline.text)
        return Draft(to_hits(reply.strip(), evidence), False, self.name, verbatim=offline.text)


class Judge(_OnRanker):
    """(c): the model says yes or no to each of the ranker's best sentences; the accepted ones answer."""

    design = "judge"
    most = 4

    def generate(self, question: str, parts: Sequence[str], hits: list[Hit], on_token: OnToken | None = None,
                 on_offline: OnDraft | None = None) -> Draft:
        if self.screened(question, parts, hits, on_offline) is None:
            return Draft(REFUSAL, True, self.name)
        accepted = [c for c in candidates(self.ranker, parts, hits, self.most) if self.accepts(question, c)][:3]
        if not accepted:
            return Draft(REFUSAL, True, self.name)
        text = " ".join(f"{c.sentence.text} [{c.n}]" for c in accepted)
        if on_token:
            on_token(text)
        return Draft(text, False, self.name, verbatim=text)


DESIGNS: dict[str, type[_OnRanker] | None] = {"free": None, "evidence": EvidenceFirst, "judge": Judge}  # RAG_LLM_DESIGN; free: llm.OpenAICompatible itself
