"""The offline answerer: scores the hits' sentences once per question part, picks the best, or refuses.

A sentence's evidence score mixes its cosine with the question part, the idf-weighted share of
the part's words it and its paragraph hold, and whether it holds what the part asks for
(`answer_types`), less a penalty when a number the question states is absent from its whole
document (and, in the seed-fitted rules, when a name of the question is).
Every weight and the refusal threshold were chosen on a public calibration set (SQuAD 2.0, see
`bench/rules.py` and BENCHMARKS.md), not on the seed eval.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rag import text as T
from rag.answer import answer_types, cross, reader
from rag.answer.generate import REFUSAL, Draft, OnDraft, OnToken
from rag.answer.retrieve import CARRIES_ON, Embed, Hit, Sentence, neighbour
from rag.answer.rules import ANNOUNCES, LATEST, REASON_OR_WAY, WIDE, Rules
from rag.text import names


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
            wide = len(parts) == 1 and bool(WIDE.search(part))
            most = (r.wide if wide else r.most) if len(parts) == 1 else 1
            picked = self.select(part, ranked, hits, most)
            if wide and picked and r.reads_on is not None and not REASON_OR_WAY.search(part):
                picked = self.read_on(ranked, hits, picked, most)
            for n, sent in picked:
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
        asked = reader.names(part)
        q = self.embed([part])[0]
        out = []
        for n, hit, sentences, texts in _candidates(hits, kind):
            p = hit.paragraph
            cosines = self.embed(texts) @ q if texts else []
            context = T.overlap(part, p.title + "\n" + p.text, self.idf, r.variants)
            missing = r.missing_name * self._missing(asked, hit) if r.missing_name else 0.0
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

    def read_on(self, ranked: list[Scored], hits: list[Hit], chosen: list[tuple[int, Sentence]],
                most: int) -> list[tuple[int, Sentence]]:
        """A summary's answer read on in its passage: to the chosen sentences, up to `most`, the best first of the
        other sentences of the first one's paragraph (and of the next when it carries it on, "In his opinion, ...")
        that score within `reads_on` of the best and say mostly something new (half their words, three at least).
        The refusal threshold does not bound them: the passage was found to answer, and the sentences that
        complete a summary need not each match the question."""
        first = chosen[0][0]
        after = _adjacent(hits, first)
        passage = {first} | ({after} if after and CARRIES_ON.search(hits[after - 1].paragraph.text) else set())
        floor = max(x.score for x in ranked) - (self.rules.reads_on or 0.0)  # `ranked` may lead with the newest
        taken, said = {(n, s.start) for n, s in chosen}, {w for _, s in chosen for w in T.stems(s.text)}
        out = list(chosen)
        for x in ranked:
            if len(out) >= most:
                break
            stems = set(T.stems(x.sentence.text))
            if x.score >= floor and x.n in passage and (x.n, x.sentence.start) not in taken and len(stems - said) >= max(3, len(stems) / 2):
                out.append((x.n, x.sentence))
                said |= stems
        return out

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

    def _missing(self, asked: list[str], hit: Hit) -> bool:
        """Whether a name of the question is nowhere in the hit's document: not as written, not as its initials, and
        not in another spelling (Tokaev for the document's Toqayev: the question is respelled the corpus's most
        common way, which need not be this document's)."""
        if not asked:
            return False
        doc = self._document(hit)
        context, initials = set(T.stems(hit.paragraph.title + " " + doc)), T.acronyms(doc)
        keys = _keys(hit.paragraph.title + "\n" + doc)
        return any(not (set(T.stems(w)) <= context or w.lower() in initials or names.key(w) in keys) for w in asked)


def _candidates(hits: list[Hit], kind: answer_types.AnswerType | None) -> Iterator[tuple[int, Hit, list[Sentence], list[str]]]:
    """(hit number, hit, its sentences that may answer a question of `kind`, their texts as scored): headings are
    left out, and an author line is read with its title."""
    for n, hit in enumerate(hits, 1):
        p = hit.paragraph
        if answer_types.answers_from(kind, p.kind):
            sentences = [s for s in hit.sentences if p.kind != "text" or not _is_heading(s.text)]
            yield n, hit, sentences, [_context(p.title, s.text) if p.kind == "author" else s.text for s in sentences]


@lru_cache(maxsize=256)
def _keys(document: str) -> frozenset[str]:
    """The transliteration keys of a document's capitalised words."""
    return frozenset(names.key(w) for w in T.WORD.findall(document) if w[:1].isupper())


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
