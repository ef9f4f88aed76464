"""Generators turn a question and retrieved passages into a draft answer with [n] markers.

`Extractive` is the offline default: it answers with the corpus's own sentences.
`OpenAICompatible` asks any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from rag import prompts
from rag import text as T
from rag.errors import LLMBadResponse, LLMError, LLMTimeout
from rag.retrieve import Hit, Sentence

REFUSAL = "The corpus does not contain the answer to this question."
REFUSAL_THRESHOLD = 0.40  # calibrated on the calibration split of eval/questions.jsonl (see eval/README.md)
W_COS, W_OVERLAP, W_CONTEXT = 0.5, 0.3, 0.2  # sentence cosine, sentence and paragraph word overlap
TYPE_BONUS, TYPE_PENALTY = 0.05, 0.35  # the sentence holds / lacks the kind of thing asked for
MARGIN = 0.25  # a further sentence must score within this of the best one and add new question words

NUMBER_Q = re.compile(
    r"\bhow (many|much|long|far|old|large|big)\b|\bwhat (number|age|size)\b|\b(length|km|kilometers|miles|population)\b|"
    r"\b(exchange|interest|inflation|unemployment) rate\b",
    re.I,
)
PERCENT_Q = re.compile(r"\b(share|percentage|percent|proportion|rating)\b", re.I)
YEAR_Q = re.compile(r"\b(what|which|in what|in which) years?\b|\byears in\b", re.I)
DATE_Q = re.compile(r"^\W*when\b|\bwhat (date|day|month|time)\b|\b(which|what) (day|date|month)\b", re.I)
WHERE_Q = re.compile(
    r"^\W*where\b|\b(which|what) (town|city|country|countries|region|province|place|forum|venue|newspaper|channel)\b", re.I
)
PLACE_WORDS = re.compile(r"\b(north|south|east|west|centr)\w*|\b(regions?|provinces?|cities|city|town|capital|border)\b", re.I)
WHO_Q = re.compile(r"^\W*(who|whom)\b|\bwhich (person|leader|official|politician|expert|activist|minister)\b", re.I)
NUMBER_WORDS = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?|half)\b", re.I)
PERCENT_WORDS = re.compile(r"%|\bper ?cent\b|\b(half|third|quarter)\b", re.I)
PERCENTAGE = re.compile(r"[\d.,]+\s*(%|per ?cent\b)", re.I)
YEAR_WORDS = re.compile(r"\b(1[6-9]|20)\d\d\b")
DATE_WORDS = re.compile(
    r"\d|\b(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday)\b",
    re.I,
)
# Where a question asking two things splits: "How long is X, and where is Y?"
SECOND_PART = re.compile(r",?\s+and\s+(?=(what|which|who|whom|how|where|when|why|did|does|do|is|are|was|were)\b)", re.I)
# A sentence that starts like this continues the one before it ("This was stated by ...").
CONTINUES = re.compile(r"^\W*(this|that|these|those|such|according to the report|in his opinion|in her opinion)\b", re.I)
# A sentence that ends like this announces the quote that follows it.
ANNOUNCES = re.compile(r"\b(said|says|stated|noted|added|wrote|writes|explained|told \w+)\W*[.:]\W*$|:\W*$", re.I)
UNDISCLOSED = re.compile(
    r"\b(did|does|do|has|have|would|will)\s*(not|n't)\s+(disclose|reveal|specify|say|give|provide|comment)|"
    r"\bnot (been )?(disclosed|revealed|specified|known|made public)\b|\bdeclined to (say|comment|disclose)\b",
    re.I,
)


@dataclass(frozen=True)
class Draft:
    text: str  # sentences, each followed by [n] markers naming passages 1..len(hits)
    refused: bool
    generator: str


class Generator(Protocol):
    name: str

    def generate(self, question: str, hits: list[Hit]) -> Draft: ...


class Scorer(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...

    def overlap(self, question: str, text: str) -> float: ...


class Extractive:
    """Answers with the one to three corpus sentences that best answer the question."""

    name = "extractive"

    def __init__(
        self, threshold: float = REFUSAL_THRESHOLD, documents: Mapping[str, str] | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self.threshold = threshold
        self.documents = documents or {}
        self.scorer = scorer

    def generate(self, question: str, hits: list[Hit]) -> Draft:
        parts = split_question(question) if self.scorer else [question]
        chosen: list[tuple[int, Sentence]] = []
        for part in parts:
            part_hits = hits if len(parts) == 1 else rescore(part, hits, self.scorer)  # type: ignore[arg-type]
            taken = {(m, c.start) for m, c in chosen}
            for n, sent in self._select(part, part_hits, 3 if len(parts) == 1 else 1, taken):
                if (n, sent.start) not in taken:
                    chosen.append((n, sent))
        if not chosen:
            return Draft(REFUSAL, True, self.name)
        return Draft(" ".join(f"{s.text} [{n}]" for n, s in chosen[:3]), False, self.name)

    def _select(
        self, question: str, hits: list[Hit], most: int, taken: set[tuple[int, int]] = frozenset()  # type: ignore[assignment]
    ) -> list[tuple[int, Sentence]]:
        """The best sentences for `question`, skipping those already `taken` for another part of it."""
        ranked = [r for r in rank_sentences(question, hits, self.documents) if (r[1], r[2].start) not in taken]
        if not ranked or ranked[0][0] < self.threshold or UNDISCLOSED.search(ranked[0][2].text):
            return []
        best = ranked[0][0]
        qstems = set(T.stems(question))
        chosen: list[tuple[int, Sentence]] = []
        covered: set[str] = set()
        for score, n, sent in ranked:
            if len(chosen) >= most or score < max(self.threshold, best - MARGIN):
                break
            new = (qstems & set(T.stems(sent.text))) - covered
            if chosen and (not new or UNDISCLOSED.search(sent.text)):
                continue
            chosen.append((n, sent))
            covered |= new
            follow = _next_sentence(hits, n, sent)
            if follow is not None and len(chosen) < 3:
                chosen.append(follow)
                covered |= qstems & set(T.stems(follow[1].text))
        return chosen


def split_question(question: str) -> list[str]:
    """A question that asks two things, as two questions.

    >>> split_question("How long is the border, and where do Russians live?")
    ['How long is the border', 'where do Russians live?']
    """
    m = SECOND_PART.search(question)
    if not m or len(T.content_words(question[: m.start()])) < 2:
        return [question]
    return [question[: m.start()], question[m.end() :]]


def rescore(question: str, hits: list[Hit], scorer: Scorer) -> list[Hit]:
    """The hits with their sentences scored against another question."""
    q = scorer.embed([question])[0]
    out = []
    for h in hits:
        vecs = scorer.embed([s.text for s in h.sentences]) if h.sentences else np.zeros((0, len(q)))
        sentences = tuple(
            replace(s, score=float(v @ q), overlap=scorer.overlap(question, s.text)) for s, v in zip(h.sentences, vecs)
        )
        out.append(replace(h, sentences=sentences, overlap=scorer.overlap(question, h.title + "\n" + h.text)))
    return out


def _next_sentence(hits: list[Hit], n: int, sentence: Sentence) -> tuple[int, Sentence] | None:
    """The sentence after `sentence` when it carries on its meaning, with its passage number.

    That is a sentence opening with "This ..." or "According to the report ...", or whatever
    follows a sentence that ends by announcing a quote ("..., said:"), even in the next
    paragraph when that paragraph was retrieved too.
    """
    hit = hits[n - 1]
    later = [s for s in hit.sentences if s.start >= sentence.end]
    if later:
        return (n, later[0]) if CONTINUES.search(later[0].text) or ANNOUNCES.search(sentence.text) else None
    if not ANNOUNCES.search(sentence.text):
        return None
    following = _following_id(hit.id)
    for m, h in enumerate(hits, 1):
        if h.id == following and h.sentences:
            return m, h.sentences[0]
    return None


def _following_id(paragraph_id: str) -> str:
    """The id of the paragraph after this one: "a.txt#p4" -> "a.txt#p5"."""
    name, _, number = paragraph_id.rpartition("#p")
    return f"{name}#p{int(number) + 1}" if number.isdigit() else ""


def rank_sentences(
    question: str, hits: list[Hit], documents: Mapping[str, str] | None = None
) -> list[tuple[float, int, Sentence]]:
    """(score, passage number, sentence) for every sentence of the hits, best first.

    The score mixes the sentence's cosine with the question, how many of the question's
    words (idf-weighted) it and its paragraph contain, and whether it holds the kind of
    thing asked for (a number for "how many", a date for "when", a name for "who"), less a
    penalty for each name of the question that the sentence's document never mentions.
    """
    names = _names(question)
    out = []
    for n, hit in enumerate(hits, 1):
        doc = (documents or {}).get(hit.source, hit.text)
        context, initials = set(T.stems(hit.title + " " + doc)), T.acronyms(doc)
        missing = any(not (set(T.stems(w)) <= context or w.lower() in initials) for w in names)
        for s in hit.sentences:
            if _is_heading(s.text):
                continue
            score = W_COS * s.score + W_OVERLAP * s.overlap + W_CONTEXT * hit.overlap - 0.3 * missing
            score += _type_fit(question, s.text)
            if len(T.words(s.text)) < 5:
                score -= 0.1
            out.append((score, n, s))
    return sorted(out, key=lambda x: -x[0])


def _names(question: str) -> list[str]:
    """Capitalised words after the first: the names a supporting paragraph must mention."""
    return [w for w in T.WORD.findall(question)[1:] if w[:1].isupper() and w.lower() not in T.STOPWORDS]


def _is_heading(sentence: str) -> bool:
    return not sentence.rstrip().endswith(('.', '!', '?', '"', '”', '’', ')', '»')) and len(T.words(sentence)) < 12


def _type_fit(question: str, sentence: str) -> float:
    """Score adjustment for whether the sentence holds the kind of thing the question asks for.

    A bonus when it does, a small penalty when only vaguely ("thousands" for "how many"),
    a large one when it does not, and nothing when the question asks for no kind.
    """
    if PERCENT_Q.search(question):
        found: bool | None = bool(PERCENT_WORDS.search(sentence))
    elif YEAR_Q.search(question):
        found = bool(YEAR_WORDS.search(sentence))
    elif NUMBER_Q.search(question):  # a share does not answer "how many"
        rest = PERCENTAGE.sub(" ", sentence)
        found = True if re.search(r"\d", rest) else (None if NUMBER_WORDS.search(rest) else False)
        if found is None:
            return -TYPE_BONUS
    elif DATE_Q.search(question):
        found = bool(DATE_WORDS.search(sentence))
    elif WHO_Q.search(question) or WHERE_Q.search(question):
        asked = {w.lower() for w in T.WORD.findall(question)}
        named = any(w[:1].isupper() and w.lower() not in asked for w in T.WORD.findall(sentence)[1:])
        found = named or bool(WHERE_Q.search(question) and PLACE_WORDS.search(sentence))
    else:
        return 0.0
    return TYPE_BONUS if found else -TYPE_PENALTY


class OpenAICompatible:
    """Any OpenAI-compatible chat completions server, through the openai client."""

    def __init__(
        self, model: str, prompts_dir: Path, base_url: str = "", api_key: str = "",
        timeout: float = 30.0, retries: int = 2,
    ) -> None:
        import openai

        self.name = f"openai:{model}"
        self.model, self.prompts_dir = model, prompts_dir
        self.client = openai.OpenAI(
            base_url=base_url or None, api_key=api_key or "not-needed", timeout=timeout, max_retries=retries
        )

    def messages(self, question: str, hits: list[Hit]) -> list[dict[str, str]]:
        """The chat messages sent for `question`: fenced, numbered passages and the rules."""
        passages = "\n\n".join(
            prompts.render(
                self.prompts_dir, "passage", n=n, source=h.source, title=prompts.quote(h.title), text=prompts.quote(h.text)
            )
            for n, h in enumerate(hits, 1)
        )
        return [
            {"role": "system", "content": prompts.render(self.prompts_dir, "system", refusal=REFUSAL)},
            {"role": "user", "content": prompts.render(self.prompts_dir, "answer", passages=passages, question=question)},
        ]

    def generate(self, question: str, hits: list[Hit]) -> Draft:
        if not hits:
            return Draft(REFUSAL, True, self.name)
        reply = self.complete(self.messages(question, hits))
        refused = _normalise(REFUSAL) in _normalise(reply) or not reply.strip()
        return Draft(REFUSAL if refused else reply.strip(), refused, self.name)

    def complete(self, messages: list[dict[str, str]]) -> str:
        """One chat completion; every failure becomes an LLMError with a message."""
        import openai

        try:
            response = self.client.chat.completions.create(model=self.model, messages=messages, temperature=0)  # type: ignore[arg-type]
        except openai.APITimeoutError as e:
            raise LLMTimeout(f"the language model server did not answer in time ({e})") from e
        except openai.APIConnectionError as e:
            raise LLMError(f"the language model server cannot be reached: check OPENAI_BASE_URL ({e})") from e
        except openai.APIStatusError as e:
            raise LLMError(f"the language model server answered HTTP {e.status_code}: {_short(e.message)}") from e
        except (openai.APIError, ValueError, TypeError) as e:
            raise LLMBadResponse(f"the language model server sent a reply that cannot be read: {_short(str(e))}") from e
        choices = getattr(response, "choices", None)
        if not choices or not isinstance(getattr(choices[0].message, "content", None), str):
            raise LLMBadResponse("the language model server sent a reply with no answer in it")
        return str(choices[0].message.content)


def _normalise(s: str) -> str:
    return " ".join(T.words(s))


def _short(s: str) -> str:
    return s if len(s) < 200 else s[:200] + "…"
