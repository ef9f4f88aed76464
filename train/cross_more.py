"""The cross-encoder trained further on written questions of the kinds SQuAD holds
fewest of (why, how, summaries, near misses), with SQuAD 2.0 questions of the same articles replayed beside them.

    python -m train.cross_more ../shared/benchmarks/squad2-cs224n-dev --out DIR [--replay 600] [--lr 2e-5]

The questions (`train/questions/`) were written about paragraphs of the `encoder` articles only
(train/splits/squad2.json), each line naming its article, its paragraph's index and the numbers of the
sentences that answer it (none for a near miss); the paragraphs' text stays in the data folder. An answer
of several sentences is taught once for each of them, the other answering sentences left out of the
candidates, so that none is taught as wrong. Training starts from the layers in --start (the shipped
ones, from `make train-cross`) and its "no answer" score, runs one epoch, and writes the layers and a
manifest (the start's, with the cosine threshold at 5% false refusals on the `head` articles and the `test`
articles' figures) to --out; then the head of `RAG_RULES=cross` is refitted over them (`train.cross.with_head`).
To try them, copy --out over rag/models/cross/ and run `make export-onnx`. Two runs are measured in
BENCHMARKS.md ("Written questions of the missing kinds"); neither beat the shipped layers, so they do
not ship.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag import text as T
from train import cross, squad
from train.reader import ROOT, save

QUESTIONS = ROOT / "train" / "questions" / "squad2-encoder.jsonl"


def items(data: Path, path: Path) -> list[squad.Item]:
    """The written questions as training items (see the module's notes)."""
    paras = {(a["title"], i): p["context"] for a in json.loads((data / squad.DEV).read_text())["data"]
             for i, p in enumerate(a["paragraphs"])}
    allowed = set(json.loads(squad.SPLIT_FILE.read_text())["parts"]["encoder"])
    out = []
    for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()):
        if r["article"] not in allowed:
            raise ValueError(f"{path}: {r['article']} is not an `encoder` article")
        ctx = paras[(r["article"], r["paragraph"])]
        sents = [ctx[s:e] for s, e in T.sentence_spans(ctx)]
        cited = r["sentences"]
        for gold in cited:
            kept = [x for i, x in enumerate(sents) if i == gold or i not in cited]
            out.append(squad.Item(r["question"], ctx, tuple(kept), kept.index(sents[gold]), -1, (), r["article"]))
        if not cited:
            out.append(squad.Item(r["question"], ctx, tuple(sents), -1, -1, (), r["article"]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="the squad2-cs224n-dev folder")
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--start", type=Path, default=cross.OUT, help="the layers to start from")
    ap.add_argument("--out", type=Path, required=True, help="where the layers and the manifest go")
    ap.add_argument("--replay", type=int, default=600, help="SQuAD questions of the encoder articles trained beside them")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--no-head", action="store_true", help="leave the head as it is (a quick look at the cosine alone)")
    a = ap.parse_args()
    if not (a.data / squad.DEV).is_file():
        print(f"error: {a.data / squad.DEV} is missing", file=sys.stderr)
        return 2
    from rag.index import embed, export

    h = replace(cross.Hyper(), epochs=1, lr=a.lr)
    names = squad.write_split(a.data)
    parts = {k: squad.items(a.data, v) for k, v in names.items()}
    written = items(a.data, a.questions)
    data = written + random.Random(h.seed).sample(parts["encoder"], min(a.replay, len(parts["encoder"])))
    start = json.loads((a.start / "manifest.json").read_text())
    _, tok = cross._base()
    model = export._transformer(embed.bundled_model_path(), a.start / "encoder.safetensors")
    started = time.time()
    losses, null = cross.train(model, tok, data, h, float(start["null"]))
    seconds = round(time.time() - started, 1)
    after = cross.measure(model, tok, parts, h)
    record = {**start, "cosine_threshold": after["threshold"], "null": null}
    record["further"] = {"questions": str(a.questions.relative_to(ROOT)) if a.questions.is_relative_to(ROOT) else str(a.questions),
                         "questions_sha256": squad.sha256(a.questions), "written_items": len(written),
                         "replayed": min(a.replay, len(parts["encoder"])), "epochs": 1, "lr": a.lr, "seconds": seconds,
                         "start_files": start.get("files"),
                         "loss_first_last_50": [float(np.mean(losses[:50])), float(np.mean(losses[-50:]))]}
    record["figures"] = {**start.get("figures", {}), "before_further": start.get("figures", {}).get("trained"), "trained": after}
    save(cross.layers(model), a.out, record)
    if not a.no_head:
        cross.with_head(a.data, parts, a.out, record)
    print(json.dumps({"further": record["further"], "trained": after}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
