"""BM25 at query time with numpy alone: the same scores and top-k as bm25s, from the same saved files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import bm25s
import numpy as np
import pytest

from rag import text as T
from rag.config import ROOT
from rag.index.store import Postings

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()]


def build_of(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def test_scores_and_top_k_are_bm25s_own_on_every_eval_question(seeds_index: Path) -> None:
    folder = build_of(seeds_index) / "bm25"
    theirs, ours = bm25s.BM25.load(str(folder), load_vocab=True, show_progress=False), Postings.read(folder)
    assert ours.rows == theirs.scores["num_docs"] and ours.vocab == theirs.vocab_dict
    compared = 0
    for question in QUESTIONS + ["the the Russia Russia of Ukraine"]:  # repeated words count twice in both
        tokens = [t for t in T.stems(question) if t in ours.vocab]
        if not tokens:
            continue
        assert np.array_equal(ours.scores(tokens), theirs.get_scores(tokens))  # to the bit
        ids, scores = theirs.retrieve([tokens], k=10, show_progress=False, n_threads=1)
        top_ids, top_scores = ours.top(tokens, 10)
        assert top_ids.tolist() == ids[0].tolist() and np.array_equal(top_scores, scores[0])
        compared += 1
    assert compared >= len(QUESTIONS) - 2


def test_words_outside_the_vocabulary_add_nothing_and_k_is_capped(seeds_index: Path) -> None:
    ours = Postings.read(build_of(seeds_index) / "bm25")
    word = next(iter(w for w in ours.vocab if w))
    assert np.array_equal(ours.scores([word, "zzzqqq", ""]), ours.scores([word]))  # "" has an id but no column
    ids, scores = ours.top([word], ours.rows + 5)
    assert len(ids) == ours.rows and list(scores) == sorted(scores, reverse=True)
    assert int(ours.df[ours.vocab[word]]) == int((ours.scores([word]) > 0).sum())


def test_a_variant_it_cannot_score_is_refused_rather_than_scored_wrong(seeds_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bm25"
    shutil.copytree(build_of(seeds_index) / "bm25", copy)
    params = copy / "params.index.json"
    params.write_text(json.dumps({**json.loads(params.read_text()), "method": "bm25+"}), encoding="utf-8")
    with pytest.raises(ValueError, match="bm25\\+"):  # which an open index reports as unreadable, with the fix
        Postings.read(copy)
