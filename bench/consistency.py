"""Verification against made-up claims: sentences of SQuAD 2.0's test articles (train/splits), turned
into true and false claims by rule, each checked against its own paragraph as `verify.verify` checks
an answer's sentence.

    python bench/consistency.py ../shared/benchmarks/squad2-cs224n-dev [--n 200]

Kinds: the sentence itself and its longest clause (true); a negation added, a number changed, a name
swapped for another of the same article, two names swapped (roles), an invented cause added, a
second passage's sentence joined on (false). Prints, per kind, the share verification accepts.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from rag import text as T
from rag.answer import verify as V
from rag.answer.retrieve import Hit
from rag.index import embed
from rag.ingest.corpus import Paragraph

AUX = re.compile(r"\b(is|was|are|were|has|had|have|will|would|can|could|did|does|do)\b")
TRUE = ("itself", "clause")


def _names(s: str) -> list[str]:
    return [w for w in T.WORD.findall(s)[1:] if w[:1].isupper() and w.lower() not in T.STOPWORDS]


def claims(s: str, article_names: list[str], other: str, rng: random.Random) -> dict[str, str]:
    """The claims made from sentence `s` by each rule that applies."""
    out = {"itself": s}
    parts = [p for p in V.clauses(s)[1:] if len(T.words(p)) >= 6 and "," not in p]
    if parts:
        out["clause"] = max(parts, key=len).rstrip(".") + "."
    if m := AUX.search(s):
        out["negation"] = s[: m.end()] + " not" + s[m.end() :]
    if m := re.search(r"\b\d+\b", s):
        out["number"] = s[: m.start()] + str(int(m.group()) + 3) + s[m.end() :]
    names = _names(s)
    swaps = [n for n in article_names if n not in s]
    if names and swaps:
        out["entity"] = s.replace(names[0], rng.choice(swaps), 1)
    distinct = list(dict.fromkeys(names))
    if len(distinct) >= 2:
        a, b = distinct[0], distinct[-1]
        out["roles"] = s.replace(a, "\0").replace(b, a).replace("\0", b)
    words = T.WORD.findall(other)
    if len(words) >= 6:
        out["cause"] = s.rstrip(".") + ", because of " + " ".join(words[1:5]).lower() + "."
        out["joined"] = s.rstrip(".") + ", and " + other[0].lower() + other[1:]
    return out


def sample(data_dir: Path, n: int, seed: int = 0) -> list[tuple[str, str, dict[str, str]]]:
    """(paragraph, sentence, claims) for `n` sentences of the test articles."""
    split = json.loads((Path(__file__).resolve().parent.parent / "train" / "splits" / "squad2.json").read_text())
    test = set(split["parts"]["test"])
    articles = [a for a in json.loads((data_dir / "dev-v2.0.json").read_text())["data"] if a["title"] in test]
    rng = random.Random(seed)
    pool = [(a, p["context"], s) for a in articles for p in a["paragraphs"]
            for s in (p["context"][x:y] for x, y in T.sentence_spans(p["context"])) if len(T.words(s)) >= 8]
    others = [s for _, _, s in pool]
    out = []
    for a, para, s in rng.sample(pool, min(n, len(pool))):
        names = sorted({w for p in a["paragraphs"] for w in _names(p["context"])})
        out.append((para, s, claims(s, names, rng.choice([o for o in others if o not in para]), rng)))
    return out


def accepted(claim: str, para: str, embed_fn: Callable[[list[str]], object]) -> bool:
    hit = Hit(Paragraph("x#p1", "x", "", 0, len(para), para), 1.0)
    v = V.verify(claim + " [1]", [hit], embed_fn)  # type: ignore[arg-type]
    return bool(v.claims) and all(c.supported for c in v.claims)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    fn = embed.Cached(embed.load())
    tally: dict[str, list[bool]] = {}
    for para, _, made in sample(a.data_dir, a.n):
        for kind, claim in made.items():
            tally.setdefault(kind, []).append(accepted(claim, para, fn))
    print("| kind | claims | accepted |\n|---|---|---|")
    for kind, seen in tally.items():
        label = f"{kind} (true)" if kind in TRUE else f"{kind} (false)"
        print(f"| {label} | {len(seen)} | {sum(seen) / len(seen):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
