"""Whether a claim keeps the meaning of the passage sentence it matches best: by hand rules (`rules`), or by a
model trained on synthetic claims (`learned`, FactCC-style).

The learned checker is a small gradient-boosted tree ensemble over pair features computed with the
project's own tools (clause cosine with the bundled embedder, content-word coverage, negation counts,
word order, causal connectives, joined statements, ...); `make train-checker` (train/checker.py)
fits it on SQuAD 2.0's training articles, and the trees and their manifest live in rag/models/checker/.
Numbers and names are checked apart (`consistency.facts_present`) under either mode.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag import text as T
from rag.answer import reader
from rag.answer.consistency import CAUSE, NEGATION, PARTS, capitalised, consistent
from rag.errors import RagError
from rag.text import names

FOLDER = Path(__file__).resolve().parent.parent / "models" / "checker"
SUPPORT = 0.6  # cosine each statement of a joined claim needs with some piece of the passage
BY_AGENT = re.compile(r"\b(?:is|was|are|were|be|been|being)\s+(?:\w+ly\s+)?\w+(?:ed|en|wn|ht)\s+by\b", re.I)
JOINS = re.compile(r",\s+(?:and|but|while|whereas)\s+|;\s+")
FEATURES = ("cos_piece", "cos_source", "cover_source", "cover_passage", "novel_source", "novel_passage", "kept",
            "length_ratio", "neg_claim", "neg_piece", "neg_source", "neg_gap", "neg_window", "discord", "names_discord",
            "passive_claim", "passive_source", "cause_new", "cause_cover", "parts", "parts_cos", "bigram_source",
            "bigram_passage", "new_numbers", "new_names")
Embed = Callable[[list[str]], np.ndarray]


def parts_supported(claim: str, pieces: Sequence[str], embed: Embed) -> bool:
    """A claim joining two statements ("X did A, and Y did B") is supported only when each is: each part must
    be as close to some piece of the passage as a whole claim must be."""
    return _parts_cos(claim, pieces, embed) >= SUPPORT


def _parts_cos(claim: str, pieces: Sequence[str], embed: Embed) -> float:
    """The lowest, over the statements a claim joins, of the best cosine with a piece; 1 for a single statement."""
    parts = [p for p in JOINS.split(claim) if len(T.words(p)) >= 4]
    if len(parts) < 2:
        return 1.0
    return float((embed(parts) @ embed(list(pieces)).T).max(axis=1).min())


def discord(claim: list[str], source: list[list[str]]) -> float:
    """Share of the pairs of words both hold whose order (where each first comes) differs, against the source as written or with one of
    its clauses moved to the front or the end (a faithful rewording moves clauses; a role swap moves words).

    >>> discord("rebel defeat armi".split(), ["armi defeat rebel".split()]), discord("b c a".split(), [["a"], "b c".split()])
    (1.0, 0.0)
    """
    best = 1.0
    held = {w for p in source for w in p}
    shared = [w for w in dict.fromkeys(claim) if w in held]  # each word where it first comes
    if len(shared) < 2:
        return 0.0
    orders = [source] + [source[:i] + source[i + 1 :] + [p] for i, p in enumerate(source)]
    orders += [[p] + source[:i] + source[i + 1 :] for i, p in enumerate(source)]
    for order in orders:
        flat = [w for part in order for w in part]
        at = [flat.index(w) for w in shared]
        pairs = [(a, b) for i, a in enumerate(at) for b in at[i + 1 :]]
        best = min(best, sum(a > b for a, b in pairs) / len(pairs))
    return best


NEGATORS = frozenset("not no never none nobody nothing neither nor cannot without".split())


def neg_window(claim: str, source: str) -> int:
    """The negations of `source` from just before the first to the last of its words the claim shares: the span
    the claim restates.

    >>> neg_window("It was envisaged for the measures.", "It was not envisaged for the measures, said no one.")
    1
    """
    ws = T.words(source)
    held = set(T.stems(claim))
    at = [i for i, st in enumerate(T._stemmer().stemWords(ws)) if st in held and ws[i] not in T.STOPWORDS]
    if not at:
        return 0
    return sum(w in NEGATORS or w.endswith("n't") for w in ws[max(0, at[0] - 2) : at[-1] + 1])  # "was not said"


def spelt_as(claim: str, passage: str) -> str:
    """`claim` with its names spelt as `passage` spells them (`text.names`), so a respelling is no new word.

    >>> spelt_as("Tokaev called for peace.", "Tokayev called for peace.")
    'Tokayev called for peace.'
    """
    keys = {names.key(w): w for w in T.WORD.findall(passage) if w[:1].isupper()}
    return T.WORD.sub(lambda m: keys.get(names.key(m.group()), m.group()) if m.group()[:1].isupper() else m.group(),
                      claim)


def _share(a: set[Any], b: set[Any]) -> float:
    return len(a & b) / len(a) if a else 1.0


def _bigrams(text: str) -> set[tuple[str, str]]:
    w = T.words(text)
    return set(zip(w, w[1:]))


def _cause(claim: str, source: str) -> tuple[float, float]:
    """Whether the claim adds a causal connective its source lacks, and how much of what it links the source says."""
    m = CAUSE.search(claim)
    if m is None:
        return 0.0, 1.0
    new = float(m.group().lower() not in source.lower())
    return new, T.overlap(claim[m.end() :] if m.start() else claim[m.end() :].split(",")[0], source, {})


def features(claim: str, piece: str, source: str, passage: str, cosines: tuple[float, float],
             pieces: Sequence[str], embed: Embed) -> list[float]:
    """The pair features of FEATURES for `claim` against the `piece` of the `source` sentence of `passage` it matches
    best; `cosines` are its cosines with the piece and with the whole sentence, `pieces` every piece of the passage."""
    claim = spelt_as(claim, passage)
    c, s, p = T.stems(claim), T.stems(source), set(T.stems(passage))
    cs, ss = set(c), set(s)
    neg = [len(NEGATION.findall(x)) for x in (claim, piece, source)]
    source_parts = [T.stems(x) for x in PARTS.split(source) if T.stems(x)]
    named = [w for w in dict.fromkeys(capitalised(claim)) if w in capitalised(source)]
    names_discord = float(named != sorted(named, key=capitalised(source).index))
    cause_new, cause_cover = _cause(claim, source)
    new_names = [w for w in capitalised(claim)[1:] if w not in capitalised(source)]
    return [cosines[0], cosines[1], _share(cs, ss), _share(cs, p), len(cs - ss), len(cs - p), _share(ss, cs),
            len(c) / max(1, len(s)), neg[0], neg[1], neg[2], float(neg[0] != neg[1]),
            float(len([w for w in T.words(claim) if w in NEGATORS or w.endswith("n't")]) != neg_window(claim, source)),
            discord(c, source_parts),
            names_discord, float(bool(BY_AGENT.search(claim))), float(bool(BY_AGENT.search(source))), cause_new,
            cause_cover, len([x for x in JOINS.split(claim) if len(T.words(x)) >= 4]), _parts_cos(claim, pieces, embed),
            _share(_bigrams(claim), _bigrams(source)), _share(_bigrams(claim), _bigrams(passage)),
            len(T.numbers(claim) - T.numbers(source)), len(new_names)]


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted regression trees on FEATURES; each tree (feature, threshold, left, right, value) per node,
    a leaf where feature is -1. P(supported) is the logistic of `base` plus the leaves reached."""

    base: float
    trees: tuple[tuple[tuple[int, ...], tuple[float, ...], tuple[int, ...], tuple[int, ...], tuple[float, ...]], ...]
    threshold: float

    def probability(self, x: Sequence[float]) -> float:
        """P(the claim says what its source says).

        >>> Trees(0.0, (((0, -1, -1), (0.5, 0.0, 0.0), (1, -1, -1), (2, -1, -1), (0.0, -2.0, 2.0)),), 0.5).probability([1.0])
        0.8807970779778823
        """
        z = self.base
        for feature, threshold, left, right, value in self.trees:
            node = 0
            while feature[node] >= 0:
                node = left[node] if x[feature[node]] <= threshold[node] else right[node]
            z += value[node]
        return 1.0 / (1.0 + math.exp(-z))


def manifest(folder: Path = FOLDER) -> dict[str, object]:
    return reader.manifest(folder, "checker")


@lru_cache(maxsize=2)
def model(folder: Path = FOLDER) -> Trees:
    """The trained trees, refused when they are not the ones the manifest names or use other features."""
    m = manifest(folder)
    raw = (folder / "trees.json").read_bytes() if (folder / "trees.json").is_file() else b""
    files = m.get("files")
    if not isinstance(files, dict) or files.get("trees.json") != hashlib.sha256(raw).hexdigest():
        raise RagError(f"the checker's trees in {folder} do not match its manifest: run `make train-checker`")
    if m.get("features") != list(FEATURES):
        raise RagError(f"the checker in {folder} was trained on other features: run `make train-checker`")
    return trees(json.loads(raw), float(m["threshold"]))  # type: ignore[arg-type]


def trees(data: dict[str, Any], threshold: float) -> Trees:
    """Trees from their plain form: {"base": b, "trees": [{"feature": [...], "threshold": [...], ...}, ...]}."""
    made = tuple((tuple(map(int, t["feature"])), tuple(map(float, t["threshold"])), tuple(map(int, t["left"])),
                  tuple(map(int, t["right"])), tuple(map(float, t["value"]))) for t in data["trees"])
    return Trees(float(data["base"]), made, threshold)


def agrees(mode: str, claim: str, pieces: Sequence[str], best: int, first: int, source: str, passage: str,
           sims: np.ndarray, embed: Embed) -> bool:
    """Whether `claim` keeps the meaning of `pieces[best]`, a piece of the `source` sentence (`pieces[first]`), by
    the hand rules or the learned checker (MODES)."""
    if mode == "rules":
        return consistent(claim, pieces[best], source) and parts_supported(claim, pieces, embed)
    x = features(claim, pieces[best], source, passage, (float(sims[best]), float(sims[first])), pieces, embed)
    m = model()
    return m.probability(x) >= m.threshold


def known(mode: str) -> str:
    """`mode`, when it is one of MODES."""
    if mode not in MODES:
        raise RagError(f"unknown verification {mode!r}: choose one of {', '.join(MODES)}")
    return mode


MODES = {"rules": "the hand rules (negations, names swapped or out of order, numbers in words, causes, joined statements)",
         "learned": "the trained checker (rag/models/checker/)"}
