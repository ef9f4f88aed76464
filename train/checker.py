"""`make train-checker`: the learned consistency checker (rag/models/checker/) from synthetic SQuAD 2.0 claims.

    python -m train.checker ../shared/benchmarks/squad2-cs224n-dev [--out rag/models/checker]

1. Claims (train/claims.py) from the sentences of the `encoder` and `head` articles (train/splits/).
2. For each claim that passes verification's other checks (cosine with a piece of its paragraph,
   word coverage, numbers and names present) and is no verbatim quote, the pair features of
   `checker.FEATURES` against the piece it matches best: the cases the checker decides.
3. Gradient-boosted trees fitted on the `encoder` articles, every kind weighing the same; the
   threshold is the probability at which TRUE_KEPT of the `head` articles' true claims pass.
4. Figures on the `test` articles, which nothing is trained on: per kind, the share verification
   accepts with the hand rules and with the learned checker.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag import text as T
from rag.answer import checker, consistency
from rag.answer import verify as V
from rag.answer.retrieve import Hit
from rag.index import embed
from rag.ingest.corpus import Paragraph
from train import claims, squad

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rag" / "models" / "checker"
SEED = 0
TRUE_KEPT = 0.97  # share of the head articles' (decided) true claims the threshold keeps
HYPER = {"n_estimators": 200, "max_depth": 3, "learning_rate": 0.1, "subsample": 0.8, "random_state": SEED}
N_SENTENCES = {"encoder": 800, "head": 300, "test": 400}  # at most, per part


def decided(claim: str, para: str, fn: V.Embed) -> list[float] | None:
    """The checker's features for `claim` citing `para`, or None when verification decides without it."""
    hit = Hit(Paragraph("x#p1", "x", "", 0, len(para), para), 1.0)
    pieces = [(i, piece) for i, s in enumerate(hit.sentences) for piece in V.clauses(s.text)]
    texts = [p for _, p in pieces]
    if not texts:
        return None
    sims = fn(texts) @ fn([claim])[0]
    best = int(np.argmax(sims))
    i = pieces[best][0]
    ok = sims[best] >= V.SUPPORT and T.overlap(claim, para, {}) >= V.COVERAGE and consistency.facts_present(claim, para)
    if not ok or V.quoted_verbatim(claim, para):
        return None
    first = next(j for j, (k, _) in enumerate(pieces) if k == i)
    source = hit.sentences[i].text
    return checker.features(claim, texts[best], source, para, (float(sims[best]), float(sims[first])), texts, fn)


def rows(samples: list[tuple[str, str, dict[str, str]]], fn: V.Embed) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features, labels (1: true claim) and kinds of the claims the checker decides, and of their statements
    (verification checks each statement of a joined claim on its own when the whole fails)."""
    xs, ys, kinds = [], [], []
    for para, _, made in samples:
        for kind, claim in made.items():
            parts = [p for p in checker.JOINS.split(claim) if len(T.words(p)) >= 4]
            for text in [claim, *(parts if len(parts) >= 2 else [])]:
                if (x := decided(text, para, fn)) is not None:
                    xs.append(x)
                    ys.append(int(kind in claims.TRUE))
                    kinds.append(kind)
    return np.array(xs, dtype=np.float64), np.array(ys), kinds


def weights(kinds: list[str]) -> np.ndarray:
    """Every kind weighs the same in all; true and false weigh the same."""
    n = {k: kinds.count(k) for k in set(kinds)}
    side = {t: len({k for k in n if (k in claims.TRUE) == t}) for t in (True, False)}
    return np.array([1.0 / (n[k] * side[k in claims.TRUE]) for k in kinds]) * len(kinds) / 2


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(**HYPER).fit(x, y, sample_weight=w)  # type: ignore[arg-type]


def export(model, x: np.ndarray) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The fitted trees as plain lists, checked against sklearn's own predictions."""
    lr = model.learning_rate
    base = float(model._raw_predict_init(x[:1])[0, 0])
    trees = []
    for est in model.estimators_[:, 0]:
        t = est.tree_
        trees.append({"feature": [int(f) if f >= 0 else -1 for f in t.feature],
                      "threshold": [float(v) for v in t.threshold], "left": [int(v) for v in t.children_left],
                      "right": [int(v) for v in t.children_right], "value": [float(v) * lr for v in t.value[:, 0, 0]]})
    data = {"base": base, "trees": trees}
    mine = checker.trees(data, 0.5)
    ours = np.array([mine.probability(r) for r in x[:200]])
    assert np.allclose(ours, model.predict_proba(x[:200])[:, 1], atol=1e-6), "exported trees disagree with sklearn"
    return data


def threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The probability at which TRUE_KEPT of the true claims pass."""
    return float(np.quantile(p[y == 1], 1 - TRUE_KEPT))


def per_kind(p: np.ndarray, kinds: list[str], cut: float) -> dict[str, float]:
    return {k: round(float(np.mean([q >= cut for q, kk in zip(p, kinds) if kk == k])), 3)
            for k in (*claims.TRUE, *claims.FALSE) if k in kinds}


def _samples(data_dir: Path, parts: dict[str, list[str]]) -> dict[str, list[tuple[str, str, dict[str, str]]]]:
    return {part: claims.sample(data_dir, parts[part], N_SENTENCES[part], seed=SEED + i)
            for i, part in enumerate(("encoder", "head", "test"))}


def _warm(fn: V.Embed, samples: dict[str, list[tuple[str, str, dict[str, str]]]]) -> None:
    """Every text embedded once, in large batches."""
    texts = {t for ss in samples.values() for para, _, made in ss for t in made.values()}
    texts |= {p for ss in samples.values() for para, _, _ in ss for s in T.sentence_spans(para)
              for p in V.clauses(para[s[0] : s[1]])}
    texts |= {p for t in list(texts) for p in checker.JOINS.split(t) if len(T.words(p)) >= 4}
    fn(sorted(texts, key=len))  # batches of like lengths pad least


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    parts = json.loads(squad.SPLIT_FILE.read_text())["parts"]
    t0 = time.time()
    fn = embed.Cached(embed.load(), size=400_000)
    samples = _samples(a.data_dir, parts)
    _warm(fn, samples)
    data = {part: rows(ss, fn) for part, ss in samples.items()}
    x, y, kinds = data["encoder"]
    model = fit(x, y, weights(kinds))
    trees = export(model, x)
    hx, hy, hkinds = data["head"]
    cut = threshold(model.predict_proba(hx)[:, 1], hy)
    tx, _, tkinds = data["test"]
    figures = {"decided": {"head": per_kind(model.predict_proba(hx)[:, 1], hkinds, cut),
                           "test": per_kind(model.predict_proba(tx)[:, 1], tkinds, cut)}}
    a.out.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(trees, separators=(",", ":")).encode()
    (a.out / "trees.json").write_bytes(raw)
    record = _manifest(a.data_dir, parts, cut, raw, figures, {k: len(v[1]) for k, v in data.items()}, time.time() - t0)
    (a.out / "manifest.json").write_text(json.dumps(record, indent=1) + "\n")
    checker.model.cache_clear()
    record["figures"]["test"] = {m: claims.tally(samples["test"], fn, m) for m in checker.MODES}
    record["figures"]["test_claims"] = claims.counts(samples["test"])
    (a.out / "manifest.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record["figures"], indent=1))
    return 0


def _manifest(data_dir: Path, parts: dict[str, list[str]], cut: float, raw: bytes, figures: dict[str, Any],
              sizes: dict[str, int], seconds: float) -> dict[str, Any]:
    return {
        "base": "pair features (rag.answer.checker.FEATURES) over the bundled all-MiniLM-L6-v2 embedder; "
                "scikit-learn GradientBoostingClassifier, exported as plain trees",
        "data": {"name": "SQuAD 2.0, CS224N dev half (CC BY-SA 4.0, Rajpurkar et al. 2018)",
                 "sha256": {squad.DEV: squad.sha256(data_dir / squad.DEV)}},
        "split": {"file": "train/splits/squad2.json", "seed": SEED, "fit": "encoder", "threshold": "head",
                  "figures": "test", "parts": parts},
        "claims": {"true": list(claims.TRUE), "false": list(claims.FALSE), "sentences": N_SENTENCES,
                   "decided": sizes},
        "hyperparameters": {**HYPER, "true_kept": TRUE_KEPT},
        "features": list(checker.FEATURES),
        "threshold": cut,
        "figures": figures,
        "train_seconds": round(seconds, 1),
        "files": {"trees.json": hashlib.sha256(raw).hexdigest()},
    }


if __name__ == "__main__":
    raise SystemExit(main())
