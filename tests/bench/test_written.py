"""bench/written.py's scoring, through the real pipeline over the seeds: an answer quoting the sentence a
question needs covers it, a refusal covers nothing, and the summary counts each kind apart."""

from __future__ import annotations

import sys

from rag.answer import pipeline
from rag.config import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import written  # noqa: E402


def test_an_answer_quoting_the_needed_sentence_covers_it(pipe: pipeline.Pipeline) -> None:
    para = next(p for p in pipe.retriever.index.paragraphs if "urgent measures" in p.text)
    sentences = [para.text[s:e] for s, e in written.T.sentence_spans(para.text)]
    needed = next(i for i, s in enumerate(sentences) if "urgent measures" in s)
    row = {"kind": "how", "question": "What did Toqayev instruct officials to do on the night of November 22?",
           "sentences": [needed]}
    got = written.scored(pipe, row, para.text, para.source)
    assert got == {"kind": "how", "refused": False, "retrieved": True, "coverage": 1.0, "full": True, "any": True}
    miss = written.scored(pipe, {"kind": "near_miss", "question": "Who won the 1998 football World Cup?", "sentences": []},
                          para.text, para.source)
    assert miss["refused"] is True and miss["coverage"] == 0.0


def test_the_summary_keeps_kinds_apart() -> None:
    rows = [{"kind": "why", "refused": False, "coverage": 0.5, "full": False, "any": True},
            {"kind": "why", "refused": True, "coverage": 0.0, "full": False, "any": False},
            {"kind": "near_miss", "refused": True, "coverage": 0.0, "full": False, "any": False}]
    out = written.summary(rows, "seed-fitted")  # type: ignore[arg-type]
    assert out[0] == {"rules": "seed-fitted", "kind": "why", "questions": 2, "refused": 0.5, "coverage": 0.25,
                      "full": 0.0, "any": 0.5}
    assert out[1] == {"rules": "seed-fitted", "kind": "near_miss", "questions": 1, "refused": 1.0}
