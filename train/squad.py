"""SQuAD 2.0 as (question, sentences, gold sentence) items, split by article with a fixed seed.

The split is written down in `train/splits/squad2.json`: the reader's encoder learns on the
`encoder` articles, its head and refusal threshold are fitted on the `head` articles, and every
figure reported is measured on the `test` articles, which nothing is trained on.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from rag import text as T

DEV = "dev-v2.0.json"
DISTRACTORS = "distractors-test-v2.0-noanswers.json"  # 570 paragraphs of 20 other articles, no answers
SPLIT_FILE = Path(__file__).resolve().parent / "splits" / "squad2.json"
SEED = 0
SIZES = {"encoder": 7, "head": 3, "test": 6}  # of the 16 articles


@dataclass(frozen=True)
class Item:
    question: str
    paragraph: str  # the context the question was written against
    sentences: tuple[str, ...]
    gold: int  # index of the sentence holding the answer; -1 for an unanswerable question
    plausible: int  # for an unanswerable question, the sentence holding its plausible answer (-1 when none)
    answers: tuple[str, ...]
    article: str


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def split(data_dir: Path) -> dict[str, list[str]]:
    """Article titles per part, drawn with SEED from the dev file's 16 (the same every run)."""
    titles = [a["title"] for a in json.loads((data_dir / DEV).read_text())["data"]]
    order = random.Random(SEED).sample(sorted(titles), len(titles))
    out, at = {}, 0
    for part, n in SIZES.items():
        out[part], at = sorted(order[at : at + n]), at + n
    return out


def write_split(data_dir: Path) -> dict[str, list[str]]:
    parts = split(data_dir)
    SPLIT_FILE.parent.mkdir(parents=True, exist_ok=True)
    record = {"file": DEV, "sha256": sha256(data_dir / DEV), "seed": SEED, "parts": parts}
    SPLIT_FILE.write_text(json.dumps(record, indent=1) + "\n")
    return parts


def _index(spans: list[tuple[int, int]], at: int) -> int:
    return next((i for i, (s, e) in enumerate(spans) if s <= at < e), -1)


def items(data_dir: Path, titles: list[str]) -> list[Item]:
    """Every question of the named articles, with its paragraph's sentences and the gold one."""
    wanted, out = set(titles), []
    for article in json.loads((data_dir / DEV).read_text())["data"]:
        if article["title"] not in wanted:
            continue
        for para in article["paragraphs"]:
            ctx = para["context"]
            spans = T.sentence_spans(ctx)
            sents = tuple(ctx[s:e] for s, e in spans)
            for qa in para["qas"]:
                ans = qa["answers"] if not qa["is_impossible"] else []
                plaus = qa.get("plausible_answers") or []
                gold = _index(spans, ans[0]["answer_start"]) if ans else -1
                if ans and gold < 0:
                    continue
                pl = _index(spans, plaus[0]["answer_start"]) if plaus else -1
                out.append(Item(qa["question"], ctx, sents, gold, pl, tuple(a["text"] for a in ans), article["title"]))
    return out


def paragraphs(data_dir: Path) -> list[tuple[str, str]]:
    """(article title, paragraph) of every paragraph of the dev file and of the distractor file beside it."""
    out = []
    for name in (DEV, DISTRACTORS):
        if (data_dir / name).is_file():
            for article in json.loads((data_dir / name).read_text())["data"]:
                out += [(article["title"], para["context"]) for para in article["paragraphs"]]
    return out


def titles(items: list[Item]) -> list[str]:
    return sorted({it.article for it in items})
