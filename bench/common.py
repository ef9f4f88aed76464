"""What the benchmark scripts share: a cached index per data set, SQuAD answer scoring, tables."""

from __future__ import annotations

import json
import os
import re
import string
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import index  # noqa: E402
from rag.config import Settings, get_settings  # noqa: E402
from rag.index import embed  # noqa: E402


def cached_index(corpus: Path, name: str, index_dir: Path | None = None,
                 where: index.Where | None = None) -> tuple[index.Index, embed.Embedder]:
    """The index of `corpus` under index/bench/<name>, built (incrementally) when missing or stale.

    Switching the store rebuilds the search structures but reuses every vector of the live build.
    """
    s = get_settings()
    folder = index_dir or ROOT / "index" / "bench" / name
    embedder = embed.load(s.embed_model, s.embed_precision)
    if index.status(corpus, folder, embedder.name, where=where) != "fresh":
        report = index.build(corpus, folder, embedder, s.index_kind, progress=sys.stderr.isatty(), where=where)
        print(f"indexed {report.paragraphs} paragraphs of {report.documents} documents in {report.seconds:.0f}s "
              f"({report.embedded} embedded)", file=sys.stderr)
    return index.load(folder, embedder.name, embedder.dim, where), embedder


def settings_over(work: Path, **fields: object) -> Settings:
    """The product's settings (the environment read as usual) over a data set's own corpus and index in `work`."""
    return get_settings().model_copy(update={"corpus_dir": work / "corpus.jsonl", "index_dir": work / "index", **fields})


def write_jsonl(path: Path, rows: Iterable[Mapping[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def normalize(s: str) -> str:
    """SQuAD answer normalisation: lower case, no punctuation, no articles, single spaces."""
    s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize(prediction) == normalize(gold))


def f1(prediction: str, gold: str) -> float:
    p, g = normalize(prediction).split(), normalize(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if not p or not g:
        return float(p == g)
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def contains(prediction: str, gold: str) -> float:
    """RGB-style accuracy: the normalised gold answer appears in the normalised prediction."""
    g = normalize(gold)
    return float(bool(g) and f" {g} " in f" {normalize(prediction)} ")


def in_passages(hits: Sequence, golds: Sequence[str]) -> bool:  # type: ignore[type-arg]
    """Whether a gold answer is in the retrieved passages of `hits`: whether the question is answerable from them."""
    given = " ".join(h.paragraph.text for h in hits)
    return any(contains(given, g) for g in golds)


def mean(rows: list[dict], key: str) -> float:  # type: ignore[type-arg]
    """The mean of `key` over `rows` (booleans count as 0 and 1), 0 when there are none."""
    return sum(float(r[key]) for r in rows) / max(1, len(rows))


def table(rows: Sequence[Mapping[str, object]], columns: list[str]) -> str:
    """A Markdown table; floats with three decimals."""
    cell = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(out)


def figures_table(result: Mapping[str, object]) -> str:
    """A result's figures as a two-column table, one a row."""
    return table([{"metric": k, "value": v} for k, v in result.items()], ["metric", "value"])


def progress(items: list, label: str):  # type: ignore[no-untyped-def,type-arg]
    """`items` with a progress bar on stderr when it is a terminal."""
    from tqdm import tqdm

    return tqdm(items, desc=label, disable=not sys.stderr.isatty(), file=sys.stderr, unit="q")
