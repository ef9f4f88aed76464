"""Contrastive fine-tuning of the bundled sentence encoder: question -> the sentence that answers it.

MultipleNegativesRankingLoss (in-batch negatives) with one hard negative per question, the sentence
of the same paragraph that shares the most words with the question. The word, position and type
embeddings stay frozen, so the trained part is the six transformer layers alone (saved in fp16).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rag import text as T
from train.squad import Item


@dataclass(frozen=True)
class Hyper:
    epochs: int = 2
    batch: int = 32
    lr: float = 3e-5
    warmup: float = 0.1  # share of steps with a rising learning rate
    scale: float = 20.0  # cosine -> logit, as sentence-transformers' MNRL
    max_tokens: int = 128
    seed: int = 0


def triplets(items: list[Item], seed: int) -> list[tuple[str, str, str]]:
    """(question, answer sentence, hard negative) for every answerable item with two or more sentences."""
    out = []
    for it in items:
        if it.gold < 0 or len(it.sentences) < 2:
            continue
        q = set(T.stems(it.question))
        others = [s for i, s in enumerate(it.sentences) if i != it.gold]
        hard = max(others, key=lambda s: (len(q & set(T.stems(s))), -len(s)))
        out.append((it.question, it.sentences[it.gold], hard))
    random.Random(seed).shuffle(out)
    return out


def train(model, data: list[tuple[str, str, str]], h: Hyper, progress: bool = True) -> list[float]:  # type: ignore[no-untyped-def]
    """Fine-tune `model` (a SentenceTransformer) in place; the loss of every step."""
    import torch
    from tqdm import tqdm

    torch.manual_seed(h.seed)
    model.max_seq_length = h.max_tokens
    for p in model[0].auto_model.embeddings.parameters():
        p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=h.lr)
    steps = h.epochs * ((len(data) + h.batch - 1) // h.batch)
    warm = max(1, int(h.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm))))
    model.train()
    losses: list[float] = []
    bar = tqdm(total=steps, desc="encoder", disable=not progress)
    for epoch in range(h.epochs):
        order = random.Random(h.seed + epoch).sample(data, len(data))
        for at in range(0, len(order), h.batch):
            batch = order[at : at + h.batch]
            losses.append(_step(model, batch, h.scale, opt, sched))
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    bar.close()
    model.eval()
    return losses


def _embed(model, texts: list[str]):  # type: ignore[no-untyped-def]
    features = model.tokenize(texts)
    return model(features)["sentence_embedding"]


def _step(model, batch: list[tuple[str, str, str]], scale: float, opt, sched) -> float:  # type: ignore[no-untyped-def]
    import torch

    q = _embed(model, [b[0] for b in batch])
    docs = _embed(model, [b[1] for b in batch] + [b[2] for b in batch])
    logits = scale * q @ docs.T  # unit vectors: cosine
    loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    return float(loss)


def trained_layers(model) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The weights that training changed (everything but the embeddings), in fp16."""
    sd = model[0].auto_model.state_dict()
    return {k: v.detach().to("cpu").half().contiguous() for k, v in sd.items() if not k.startswith("embeddings.")}


def load_layers(model, path) -> None:  # type: ignore[no-untyped-def]
    """Put trained layers (from `trained_layers`, saved) into `model`."""
    from safetensors.torch import load_file

    layers = {k: v.float() for k, v in load_file(str(path)).items()}
    model[0].auto_model.load_state_dict(layers, strict=False)
