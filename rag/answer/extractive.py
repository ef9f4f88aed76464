"""The offline answerer: scores the hits' sentences once per question part, picks the best, or refuses.

A sentence's evidence score mixes its cosine with the question part, the idf-weighted share of
the part's words it and its paragraph hold, and whether it holds what the part asks for
(`answer_types`), less a penalty when a number the question states is absent from its whole
document (and, in the seed-fitted rules, when a name of the question is).
Every weight and the refusal threshold were chosen on a public calibration set (SQuAD 2.0, see
`bench/rules.py` and BENCHMARKS.md), not on the seed eval.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from rag import text as T
from rag.answer import answer_types, cross, reader
from rag.answer.generate import REFUSAL, Draft, OnDraft, OnToken
from rag.answer.retrieve import CARRIES_ON, Embed, Hit, Sentence, neighbour

# A sentence that starts like this carries on the one before it ("This was stated by ...").
REFERS_BACK = re.compile(r"^\W*(this|that|these|those|such)\b", re.I)
# A question whose answer spans sentences: why, how (not how many), what a source says, a summary.
WIDE = re.compile(r"^\W*(why|how(?!\s+(many|much|long|old|far|big|large|tall|often|soon|high)\b)|summari[sz]e|describe|explain"
                  r"|what\b.*\b(say|says|said|report|reports|reported|write|writes|wrote|think|thinks)\b)", re.I)
# A question about the present state of things: among sentences about as good, the newest document's leads.
LATEST = re.compile(r"\b(latest|currently|current|now|most recent|as of|these days|today)\b", re.I)
# A sentence that ends like this announces what follows it: a quote or a list.
ANNOUNCES = re.compile(r":\W*$")
# Seed-fitted forms of the two.
FITTED_REFERS_BACK = re.compile(r"^\W*(this|that|these|those|such|according to the report|in his opinion|in her opinion)\b", re.I)
FITTED_ANNOUNCES = re.compile(r"\b(said|says|stated|noted|added|wrote|writes|explained|told \w+)\W*[.:]\W*$|:\W*$", re.I)


@dataclass(frozen=True)
class Rules:
    """Everything the answerer weighs; each part can be switched off to measure what it is worth."""

    weights: tuple[float, float, float] = (0.5, 0.3, 0.2)  # sentence cosine, sentence overlap, paragraph overlap
    threshold: float = 0.47  # the best sentence must score this much, or the answer is a refusal
    margin: float = 0.25  # a further sentence must score within this of the best and add question words
    types: tuple[answer_types.AnswerType, ...] = answer_types.TABLE
    variants: bool = True  # word matching sees compounds, demonyms and one-letter spelling variants
    missing_name: float = 0.0  # penalty when a name of the question is nowhere in the sentence's document (measured: none)
    missing_number: float = 0.5  # penalty when a number of the question (a year, a count) is nowhere in its document
    refers_back: re.Pattern[str] | None = REFERS_BACK  # a next sentence opening like this comes with a chosen one
    announces: re.Pattern[str] | None = None  # what follows a chosen sentence ending like this comes with it
    most: int = 3  # sentences an answer takes at most
    wide: int = 3  # ... when the question asks why, how, or what a source says: its answer spans sentences
    reader: reader.Head | None = None  # the learned reader: a sentence scores P(it answers), from reader.FEATURES
    cross: bool = False  # the cross-encoder: a sentence scores its cosine with the question, read together

    @classmethod
    def measured(cls) -> Rules:
        """The rules that earned their place on public data (SQuAD 2.0, RGB), weights and threshold chosen on SQuAD."""
        return cls()

    @classmethod
    def seed_fitted(cls) -> Rules:
        """The rules as they stood before the public measurement, fitted on the seed eval (threshold chosen there)."""
        return cls(threshold=0.40, types=answer_types.SEED_FITTED, missing_name=0.3,
                   refers_back=FITTED_REFERS_BACK, announces=FITTED_ANNOUNCES, wide=4)

    @classmethod
    def learned(cls) -> Rules:
        """The learned reader (`make train-reader`): its head scores, its threshold refuses (5% false refusals)."""
        head = reader.head()
        return cls(threshold=head.threshold, margin=1.0, reader=head, most=2, wide=4)

    @classmethod
    def crossed(cls) -> Rules:
        """The cross-encoder (`make train-cross`) as the learned head's cosine; the head's threshold refuses."""
        head = reader.head(cross.FOLDER, "cross")
        return cls(threshold=head.threshold, margin=1.0, reader=head, cross=True, most=2, wide=4)

    @classmethod
    def cross_cosine(cls) -> Rules:
        """The cross-encoder's cosine alone; a further sentence within 0.1 of the best (two nats at its scale)."""
        return cls(threshold=cross.threshold(), margin=0.1, cross=True, most=2, wide=4)


PRESETS = {"reader": Rules.learned, "cross": Rules.crossed, "cross-cosine": Rules.cross_cosine, "seed-fitted": Rules.seed_fitted, "measured": Rules.measured}  # RAG_RULES


@dataclass(frozen=True)
class Scored:
    score: float
    n: int  # 1-based number of the hit it comes from
    sentence: Sentence


@dataclass
class Extractive:
    """Answers with the one to three corpus sentences that best answer the question."""

    embed: Embed
    idf: Mapping[str, float] = field(default_factory=dict)
    documents: Mapping[str, str] = field(default_factory=dict)  # name -> full text, for the names check
    dates: Mapping[str, str] = field(default_factory=dict)  # name -> publication date (YYYY-MM-DD), when known
    rules: Rules = field(default_factory=Rules)
    name: str = "extractive"
    reader_embed: Embed | None = None  # the reader's encoder, for rules with a reader
    cross_model: cross.Pairs | None = None  # the cross-encoder, for rules with one

    def generate(self, question: str, parts: Sequence[str], hits: list[Hit], on_token: OnToken | None = None,
                 on_offline: OnDraft | None = None) -> Draft:
        chosen = self.choose(parts, hits)
        if not chosen:
            return Draft(REFUSAL, True, self.name)
        text = " ".join(f"{s.text} [{n}]" for n, s in chosen)
        if on_token:
            on_token(text)
        return Draft(text, False, self.name, verbatim=text)

    def choose(self, parts: Sequence[str], hits: list[Hit]) -> list[tuple[int, Sentence]]:
        """The sentences that answer, with the numbers of their hits: at most three, none when refusing."""
        r, chosen = self.rules, list[tuple[int, Sentence]]()
        for part in parts:
            taken = {(n, s.start) for n, s in chosen}
            ranked = [x for x in self.score(part, hits) if (x.n, x.sentence.start) not in taken]
            if LATEST.search(part):
                ranked = self._newest_first(ranked, hits)
            most = (r.wide if WIDE.search(part) else r.most) if len(parts) == 1 else 1
            for n, sent in self.select(part, ranked, hits, most):
                if (n, sent.start) not in taken:
                    chosen.append((n, sent))
        return chosen[: max(r.most, r.wide)]

    def score(self, part: str, hits: list[Hit]) -> list[Scored]:
        """Every eligible sentence of the hits scored against one question part, best first.

        A question about a document's title or author line is answered by that line, but the line
        cannot show that its document is the one meant ("the article that reports X"): the line
        scores as well as the best sentence its document holds, when that is better.
        """
        kind = answer_types.of(part, self.rules.types)
        ranked = self._sentences(part, hits, kind)
        if kind is None or "text" in kind.kinds:
            return ranked
        best: dict[str, float] = {}
        for x in self._sentences(part, hits, None):
            best.setdefault(hits[x.n - 1].paragraph.source, x.score)
        raised = [replace(x, score=max(x.score, best.get(hits[x.n - 1].paragraph.source, x.score))) for x in ranked]
        return sorted(raised, key=lambda x: -x.score)

    def _sentences(self, part: str, hits: list[Hit], kind: answer_types.AnswerType | None) -> list[Scored]:
        """The sentences of the hits that may answer a question of `kind`, scored against `part`, best first."""
        r = self.rules
        if r.reader is not None:
            return self._read(part, hits, kind, r.reader)  # with the reader's cosines, or the cross-encoder's
        if r.cross:  # the cross-encoder's cosine alone
            found = [(n, s, text) for n, _, sentences, texts in _candidates(hits, kind) for s, text in zip(sentences, texts)]
            cosines = self._cosines(part, [text for _, _, text in found])
            return sorted((Scored(c, n, s) for (n, s, _), c in zip(found, cosines)), key=lambda x: -x.score)
        names = reader.names(part)
        q = self.embed([part])[0]
        out = []
        for n, hit, sentences, texts in _candidates(hits, kind):
            p = hit.paragraph
            cosines = self.embed(texts) @ q if texts else []
            context = T.overlap(part, p.title + "\n" + p.text, self.idf, r.variants)
            missing = r.missing_name * self._missing(names, hit) if r.missing_name else 0.0
            missing += r.missing_number * self._lacks_number(part, hit) if r.missing_number else 0.0
            for s, text, cos in zip(sentences, texts, cosines):
                score = r.weights[0] * float(cos) + r.weights[1] * T.overlap(part, text, self.idf, r.variants)
                score += r.weights[2] * context - missing + answer_types.fit(kind, part, s.text)
                out.append(Scored(score, n, s))
        return sorted(out, key=lambda x: -x.score)

    def _read(self, part: str, hits: list[Hit], kind: answer_types.AnswerType | None, head: reader.Head) -> list[Scored]:
        """The sentences of the hits scored by the learned head: P(the sentence answers the part), best first."""
        found = list(_candidates(hits, kind))
        cosines = iter(self._cosines(part, [text for *_, texts in found for text in texts]))
        out = []
        for n, hit, sentences, texts in found:
            shared = reader.passage(part, self._context(hits, n), self._document(hit), self.idf)
            for s, text in zip(sentences, texts):
                x = reader.features(next(cosines), part, text, shared, self.idf, kind)
                out.append(Scored(head.probability(x), n, s))
        return sorted(out, key=lambda x: -x.score)

    def _cosines(self, part: str, texts: list[str]) -> list[float]:
        """Each text's cosine with the part: the cross-encoder's (both read in one pass), or the reader's encoder's."""
        if self.rules.cross:  # no texts, no pass
            return [float(c) for c in cross.scores(self.cross_model or cross.encoder(), part, texts)]
        embed = self.reader_embed or reader.encoder().encode
        return [float(c) for c in embed(texts) @ embed([part])[0]] if texts else []

    def _context(self, hits: list[Hit], n: int) -> str:
        """The paragraph of hit `n` as the reader reads it: with its title, and with the paragraph before it when it
        carries that one on ("In his opinion, ...") and was retrieved too."""
        p = hits[n - 1].paragraph
        before = _adjacent(hits, n, -1)
        lead = hits[before - 1].paragraph.text + "\n" if before and CARRIES_ON.search(p.text) else ""
        return f"{p.title}\n{lead}{p.text}"

    def select(self, part: str, ranked: list[Scored], hits: list[Hit], most: int) -> list[tuple[int, Sentence]]:
        """Up to `most` of the best sentences, each adding words of the part, with what they carry on into."""
        r = self.rules
        if not ranked or ranked[0].score < r.threshold:
            return []
        floor = max(r.threshold, ranked[0].score - r.margin)
        qstems, wide = set(T.stems(part)), most > 3
        chosen: list[tuple[int, Sentence]] = []
        covered: set[str] = set()
        said: set[str] = set()  # every stem of the chosen sentences: a wide answer's next sentence must add some
        for x in ranked:
            if len(chosen) >= most or x.score < floor:
                break
            stems = set(T.stems(x.sentence.text))
            new = (qstems & stems) - covered
            if chosen and not new and not (wide and len(stems - said - qstems) >= len(stems) / 2):
                continue
            chosen.append((x.n, x.sentence))
            covered, said = covered | new, said | stems
            for follow in self._carried(hits, x.n, x.sentence)[: max(most, 3) - len(chosen)]:
                chosen.append(follow)
                covered |= qstems & set(T.stems(follow[1].text))
        return chosen

    def _carried(self, hits: list[Hit], n: int, sentence: Sentence) -> list[tuple[int, Sentence]]:
        """The sentences after `sentence` that carry on its meaning, with their hit numbers.

        After a sentence ending in ":", what follows as far as the answer has room (a list runs on),
        in the next hit too when it is the next paragraph of the same document; after one the rules
        take to announce a quote ("..., she said."), the next sentence; after any sentence, a next
        one opening with "This ...".
        """
        r = self.rules
        later = [(n, s) for s in hits[n - 1].sentences if s.start >= sentence.end]
        if r.announces and r.announces.search(sentence.text):
            nxt = _adjacent(hits, n)
            after = later + ([(nxt, s) for s in hits[nxt - 1].sentences] if nxt else [])
            return after if ANNOUNCES.search(sentence.text) else after[:1]  # a list runs on, a quote is one sentence
        if r.refers_back and later and r.refers_back.search(later[0][1].text):
            return later[:1]
        return []

    def _newest_first(self, ranked: list[Scored], hits: list[Hit]) -> list[Scored]:
        """For a question about the latest state: of the sentences within the margin of the best, the one from the
        most recent dated document leads (the order is otherwise kept)."""
        if not ranked:
            return ranked
        near = [x for x in ranked if x.score >= ranked[0].score - self.rules.margin]
        newest = max(near, key=lambda x: self.dates.get(hits[x.n - 1].paragraph.source, ""))
        return [newest] + [x for x in ranked if x is not newest]

    def _document(self, hit: Hit) -> str:
        """The whole text of the hit's document (its paragraph alone when the documents are not known)."""
        return self.documents.get(hit.paragraph.source, hit.paragraph.text)

    def _lacks_number(self, part: str, hit: Hit) -> bool:
        """Whether a number the question part states (a year, a count) is nowhere in the hit's document."""
        asked = T.numbers(part)
        return bool(asked) and not asked <= T.numbers(self._document(hit))

    def _missing(self, names: list[str], hit: Hit) -> bool:
        """Whether a name of the question is nowhere in the hit's document (nor its initials)."""
        if not names:
            return False
        doc = self._document(hit)
        context, initials = set(T.stems(hit.paragraph.title + " " + doc)), T.acronyms(doc)
        return any(not (set(T.stems(w)) <= context or w.lower() in initials) for w in names)


def _candidates(hits: list[Hit], kind: answer_types.AnswerType | None) -> Iterator[tuple[int, Hit, list[Sentence], list[str]]]:
    """(hit number, hit, its sentences that may answer a question of `kind`, their texts as scored): headings are
    left out, and an author line is read with its title."""
    for n, hit in enumerate(hits, 1):
        p = hit.paragraph
        if answer_types.answers_from(kind, p.kind):
            sentences = [s for s in hit.sentences if p.kind != "text" or not _is_heading(s.text)]
            yield n, hit, sentences, [_context(p.title, s.text) if p.kind == "author" else s.text for s in sentences]


def _adjacent(hits: list[Hit], n: int, step: int = 1) -> int | None:
    """The number of the hit holding the paragraph `step` after hit `n`'s (-1: before it), when it was retrieved too.

    >>> from rag.ingest.corpus import Paragraph
    >>> hit = lambda i: Hit(Paragraph(f"a.txt#p{i}", "a.txt", "A", 0, 1, "x"), 0.0)
    >>> _adjacent([hit(4), hit(9), hit(5)], 1), _adjacent([hit(4), hit(9)], 1), _adjacent([hit(4), hit(3)], 1, -1)
    (3, None, 2)
    """
    other = neighbour(hits[n - 1].paragraph.id, step)
    return next((m for m, h in enumerate(hits, 1) if h.paragraph.id == other), None)


def _context(title: str, line: str) -> str:
    return f"{title}\n{line}"


def _is_heading(sentence: str) -> bool:
    """A line with no closing punctuation and under twelve words: a heading, not an answer.

    >>> _is_heading("Relations between the two: brief"), _is_heading("The bridge opened in May.")
    (True, False)
    """
    return not sentence.rstrip().endswith((".", "!", "?", '"', "”", "’", ")", "»")) and len(T.words(sentence)) < 12
