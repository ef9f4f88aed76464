"""The short answer inside a quoted sentence: what it marks, what it leaves alone, and its span in the document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.answer import pipeline, short
from rag.answer.verify import Citation
from rag.config import Settings


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    ("When did the bridge open?", "After years of work, the bridge opened on 12 May 2003 to traffic.", "12 May 2003"),
    ("In what year did the mill close?", "Built in 1850, the mill closed in 1992.", "1992"),
    ("How many troops did Norway send?", "Norway sent 300 troops and two ships.", "300 troops"),
    ("How much did the bridge cost?", "Built by 2003, the bridge cost $40 million in all.", "$40 million"),
    ("Who chairs the committee?", "The committee is chaired by Maria Lopez, a former judge.", "Maria Lopez"),
    ("Which party won the election?", "The election was won by the Green Party after a long count.", "Green Party"),
])
def test_marks_the_thing_asked_for(question: str, sentence: str, expected: str) -> None:
    got = short.span(question, sentence)
    assert got is not None and got.text == expected and sentence[got.start : got.end] == expected


@pytest.mark.parametrize(("question", "sentence"), [
    ("Why did the bridge close?", "It closed in 2003 because of floods."),  # a reason is more than a phrase
    ("How did the talks end?", "The talks ended on Friday without a deal."),
    ("What did the mayor say about the plan?", "Mayor Anna Berg said the plan was too costly."),
    ("Who is Anna Berg?", "Anna Berg has led the town since 2019."),  # the only name is the question's own
    ("Who opened the bridge?", "However, it was opened to traffic in May."),  # a sentence's first word is no name
])
def test_leaves_alone_what_it_cannot_mark(question: str, sentence: str) -> None:
    assert short.span(question, sentence) is None


def test_mark_gives_the_span_in_the_document() -> None:
    quote = "Norway sent 300 troops and two ships."
    cite = Citation(1, "a.txt#p2", "a.txt", 120, 120 + len(quote), quote, True, 0.9)
    got = short.mark("How many troops did Norway send?", [cite])
    assert got == short.ShortAnswer("300 troops", 1, "a.txt#p2", "a.txt", 132, 142)
    assert short.mark("How many troops did Norway send?", [Citation(1, "a", "a", 0, 5, quote, False, 0.1)]) is None


def test_an_answer_carries_its_short_answer_from_the_corpus(pipe: pipeline.Pipeline, settings: Settings) -> None:
    a = pipe.ask("How long is the border that Kazakhstan shares with Russia?")
    assert a.short_answer is not None and "6,846" in a.short_answer.text
    document = (Path(settings.corpus_dir) / a.short_answer.source).read_text(encoding="utf-8")
    assert document[a.short_answer.start : a.short_answer.end] == a.short_answer.text
    assert pipe.ask("Why did Russians flee to Kazakhstan?").short_answer is None


def test_cli_prints_it_in_bold_and_in_json(settings: Settings) -> None:
    env = {"RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir), "HF_HUB_OFFLINE": "1",
           "FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "PATH": str(Path(sys.executable).parent)}
    q = "How many Russians have crossed the border into Kazakhstan since the mobilization?"
    shown = subprocess.run([sys.executable, "-m", "rag", "ask", q], capture_output=True, text=True, env=env, check=True)
    data = subprocess.run([sys.executable, "-m", "rag", "ask", "--json", q], capture_output=True, text=True, env=env,
                          check=True)
    short_answer = json.loads(data.stdout)["short_answer"]
    assert "100,000" in short_answer["text"] and f"\x1b[1m{short_answer['text']}\x1b[0m" in shown.stdout
