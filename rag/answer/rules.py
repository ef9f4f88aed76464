"""What the offline answerer weighs (`Rules`, one preset per `RAG_RULES`), and the forms of question and sentence
it reads: a question whose answer spans sentences, one about the latest state, a sentence that carries on or
announces what follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer import answer_types, cross, reader

# A sentence that starts like this carries on the one before it ("This was stated by ...").
REFERS_BACK = re.compile(r"^\W*(this|that|these|those|such)\b", re.I)
# A question whose answer spans sentences: why, how (not how many), what a source says, a summary.
WIDE = re.compile(r"^\W*(why|how(?!\s+(many|much|long|old|far|big|large|tall|often|soon|high)\b)|summari[sz]e|describe|explain"
                  r"|what\b.*\b(say|says|said|report|reports|reported|write|writes|wrote|think|thinks)\b"
                  r"|what\s+(is|was|are|were)\s+known\b(?!\s+as\b)|what\s+happened\b"  # "what is known about X", "what happened to X"
                  r"|(what|which)\s+(?!(percentage|share|number|proportion|amount|part|fraction|majority)\s+of\b|of\b)"
                  r"(\w+\s+){0,2}\w+[^siu\W]s\s+(did|do|does|have|has|had|are|were)\b)", re.I)  # "what measures did", not "what share of"
# A wide question asking for a reason or a way; the others ask what there is to know about something (a summary).
REASON_OR_WAY = re.compile(r"^\W*(why|how)\b", re.I)
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
    reads_on: float | None = 0.45  # a summary takes its best passage's sentences within this of the best that say more
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
        return cls(threshold=head.threshold, margin=1.0, reader=head, most=2, wide=4, reads_on=None)

    @classmethod
    def crossed(cls) -> Rules:
        """The cross-encoder (`make train-cross`) as the learned head's cosine; the head's threshold refuses."""
        head = reader.head(cross.FOLDER, "cross")
        return cls(threshold=head.threshold, margin=1.0, reader=head, cross=True, most=2, wide=4, reads_on=None)

    @classmethod
    def cross_cosine(cls) -> Rules:
        """The cross-encoder's cosine alone; a further sentence within 0.1 of the best (two nats at its scale)."""
        return cls(threshold=cross.threshold(), margin=0.1, cross=True, most=2, wide=4, reads_on=None)


PRESETS = {"reader": Rules.learned, "cross": Rules.crossed, "cross-cosine": Rules.cross_cosine, "seed-fitted": Rules.seed_fitted, "measured": Rules.measured}  # RAG_RULES
