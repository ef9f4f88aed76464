"""Verification on the labelled model sentences of eval/verify/: per label, the share it accepts as supported.

    python bench/verify_labelled.py ../shared/benchmarks [--verify rules] [--split working|sealed|all] [--json]

Each item (a sentence the local model wrote, with the passage it cites) is checked as `verify.verify`
checks an answer's sentence, against that passage alone. A good verifier accepts the `entailed`
sentences and turns down the `not` ones; `partly` ones (some of the sentence stated, some added or
stronger) should be turned down too. Printed per split: the working two-thirds, and the sealed third
(items whose number `n` is a multiple of 3), which is kept for the final figure and tunes nothing.
`--verify` sets RAG_VERIFY before the project is imported (rules, learned, model); `model` asks the
bundled local model (`make setup-llm`) on top of the rules. Two more settings compose verification's own
functions, for comparison only: `similarity` (the cosine and coverage check alone, `verify.similar`: no
numbers, names or meaning checked) and `both` (accepted under `rules` and under `learned`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent / "eval" / "verify"
LABELS = ("entailed", "partly", "not")
SPLITS = ("working", "sealed")
VERIFIERS = ("rules", "learned", "model")  # RAG_VERIFY values
COMPOSED = {"similarity": "the cosine and coverage check alone", "both": "rules and learned each accept"}


def sealed(n: int) -> bool:
    """The seal rule: every third item by number is kept for the final figure.

    >>> [n for n in range(1, 10) if sealed(n)]
    [3, 6, 9]
    """
    return n % 3 == 0


def split_of(item: dict[str, Any]) -> str:
    return "sealed" if sealed(int(item["n"])) else "working"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def labelled(items: Path, labels: Path) -> list[dict[str, Any]]:
    """The items that have a label, each with its `label` and `split`."""
    by_id = {r["id"]: r["label"] for r in read_jsonl(labels)}
    return [{**it, "label": by_id[it["id"]], "split": split_of(it)} for it in read_jsonl(items) if it["id"] in by_id]


@cache
def _gz_rows(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as h:
        return {r["question_id"]: r for r in map(json.loads, h) if r}


@cache
def _rgb_rows(path: Path) -> dict[str, Any]:
    return {str(r["id"]): r for r in read_jsonl(path)}


def passage(item: dict[str, Any], bench: Path) -> str:
    """The cited passage's text: the item's own (seed corpus), or its reference resolved in the benchmarks folder."""
    p = item["passage"]
    if "text" in p:
        return str(p["text"])
    path = bench / p["file"]
    if p["file"].startswith("rgb/"):
        text = _rgb_rows(path)[str(p["question_id"])][p["list"]][p["index"]]
    else:
        text = _gz_rows(path)[p["question_id"]]["search_result"][p["result"]]["text"]
    return str(text[p["start"] : p["end"]])


def accepted(sentence: str, text: str, embed_fn: Any, judge: Any = None, how: str = "") -> bool:
    """Whether verification finds `sentence` supported by `text`, cited as its only passage (and, given a
    `judge.ModelJudge`, whether the model then agrees, as RAG_VERIFY=model has it). `how`: a RAG_VERIFY value or
    one of COMPOSED; empty, RAG_VERIFY as set."""
    from rag.answer import verify as V
    from rag.answer.retrieve import Hit
    from rag.ingest.corpus import Paragraph

    hit = Hit(Paragraph("x#p1", "x", "", 0, len(text), text), 1.0)
    if how == "similarity":
        return V.similar(sentence, embed_fn([sentence])[0], hit, embed_fn)[0]
    if how == "both":
        return all(accepted(sentence, text, embed_fn, None, mode) for mode in ("rules", "learned"))
    v = V.verify(sentence + " [1]", [hit], embed_fn, mode=how)
    v = judge.judged(v, [hit]) if judge is not None else v
    return bool(v.claims) and all(c.supported for c in v.claims)


def local_judge() -> Any:
    """The model as judge over the bundled local model (`make setup-llm`), as RAG_VERIFY=model with RAG_LLM=local."""
    from rag.answer import judge, local_server
    from rag.answer.llm import OpenAICompatible
    from rag.config import get_settings

    s = get_settings()
    server = local_server.server(s.model_path, s.llm_threads, s.llm_context, s.llm_parallel)
    return judge.ModelJudge(OpenAICompatible("local", s.prompts_dir, server.base_url, "", 120.0, 0, server.name))


def figures(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per split and label: items and the share accepted."""
    out = []
    for split in SPLITS:
        for label in LABELS:
            seen = [r["accepted"] for r in rows if r["split"] == split and r["label"] == label]
            if seen:
                out.append({"split": split, "label": label, "items": len(seen),
                            "accepted": round(sum(seen) / len(seen), 3)})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bench_dir", type=Path, help="the benchmarks folder (realtimeqa/, rgb/)")
    ap.add_argument("--verify", default="", choices=("", *VERIFIERS, *COMPOSED),
                    help="RAG_VERIFY for this run (empty: as the environment has it), or one of: "
                    + "; ".join(f"{k}: {v}" for k, v in COMPOSED.items()))
    ap.add_argument("--split", default="working", choices=(*SPLITS, "all"))
    ap.add_argument("--items", type=Path, default=HERE / "items.jsonl")
    ap.add_argument("--labels", type=Path, default=HERE / "labels.jsonl")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = ap.parse_args()
    if a.verify in VERIFIERS:
        os.environ["RAG_VERIFY"] = a.verify
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import progress, table

    from rag.index import embed

    embed_fn = embed.Cached(embed.load())
    rows = [r for r in labelled(a.items, a.labels) if a.split in ("all", r["split"])]
    asks = local_judge() if a.verify == "model" else None  # the local model judges on top of the rules
    for r in progress(rows, "verifying"):
        r["accepted"] = accepted(r["sentence"], passage(r, a.bench_dir), embed_fn, asks, a.verify)
    out = figures(rows)
    print(json.dumps(out) if a.json else table(out, ["split", "label", "items", "accepted"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
