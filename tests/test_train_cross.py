"""The cross-encoder recipe (train/cross.py) learns: a few steps on a handful of questions lower their loss, and
an unanswerable question's sentences fall under the "no answer" score. CI never trains the shipped models."""

from __future__ import annotations

import pytest

from train import cross
from train.squad import Item

pytest.importorskip("torch")

SENTENCES = ("The bridge opened in 1932.", "It is painted red.", "Ferries stopped running after it opened.")
ITEMS = [
    Item("When did the bridge open?", " ".join(SENTENCES), SENTENCES, 0, -1, ("1932",), "Bridge"),
    Item("What colour is the bridge?", " ".join(SENTENCES), SENTENCES, 1, -1, ("red",), "Bridge"),
    Item("Who designed the ferries?", " ".join(SENTENCES), SENTENCES, -1, 2, (), "Bridge"),
]


def test_a_few_steps_lower_the_loss_and_move_the_null_score() -> None:
    model, tok = cross._base()
    h = cross.Hyper(epochs=6, lr=1e-4, warmup=0.0)
    losses, null = cross.train(model, tok, ITEMS, h)
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < first
    scores = cross.score(model, tok, ITEMS, h)
    assert int(scores[0].argmax()) == 0 and int(scores[1].argmax()) == 1
    assert null != pytest.approx(0.5)


def test_written_questions_teach_each_answering_sentence_and_refuse_a_near_miss(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from train import cross_more

    dev = {"data": [{"title": "Huguenot", "paragraphs": [{"context": " ".join(SENTENCES), "qas": []}]},
                    {"title": "Warsaw", "paragraphs": [{"context": " ".join(SENTENCES), "qas": []}]}]}
    (tmp_path / "dev-v2.0.json").write_text(json.dumps(dev))
    written = tmp_path / "q.jsonl"
    rows = [{"article": "Huguenot", "paragraph": 0, "kind": "why", "question": "Why did the ferries stop?", "sentences": [0, 2]},
            {"article": "Huguenot", "paragraph": 0, "kind": "near_miss", "question": "Who built it?", "sentences": []}]
    written.write_text("\n".join(map(json.dumps, rows)))
    first, second, miss = cross_more.items(tmp_path, written)
    assert first.sentences == (SENTENCES[0], SENTENCES[1]) and first.gold == 0  # the other answering sentence left out
    assert second.sentences == (SENTENCES[1], SENTENCES[2]) and second.sentences[second.gold] == SENTENCES[2]
    assert miss.gold == -1 and miss.sentences == SENTENCES
    written.write_text(json.dumps({**rows[0], "article": "Warsaw"}))  # a test article: never trained on
    with pytest.raises(ValueError, match="not an `encoder` article"):
        cross_more.items(tmp_path, written)
