"""Verification against made-up claims: sentences of SQuAD 2.0's test articles (train/splits), turned into
true and false claims by rule (train/claims.py), each checked against its own paragraph as `verify.verify`
checks an answer's sentence, with the hand rules and with the learned checker (RAG_VERIFY).

    python bench/consistency.py ../shared/benchmarks/squad2-cs224n-dev [--n 400]

True: the sentence itself, a clause, a compression (a modifier or clause dropped), a leading phrase moved
to the end. False: a negation inserted or removed, a number or date changed, a name swapped for another
of the article, two noun phrases swapped (roles), an invented cause, a second passage joined on, the
sentence of another paragraph sharing the most words (a different event). Prints, per kind and setting,
the share verification accepts. The learned checker was trained on other articles (rag/models/checker/).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer import checker  # noqa: E402
from rag.index import embed  # noqa: E402
from train import claims, squad  # noqa: E402

SEED = 2  # train/checker.py draws its test figures with seed 2 too


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--n", type=int, default=400)
    a = ap.parse_args()
    test = json.loads(squad.SPLIT_FILE.read_text())["parts"]["test"]
    samples = claims.sample(a.data_dir, test, a.n, seed=SEED)
    fn = embed.Cached(embed.load(), size=200_000)
    shares = {mode: claims.tally(samples, fn, mode) for mode in checker.MODES}
    n = claims.counts(samples)
    print("| kind | claims | " + " | ".join(checker.MODES) + " |\n|---|---|" + "---|" * len(checker.MODES))
    for kind in (*claims.TRUE, *claims.FALSE):
        if n[kind]:
            side = "true" if kind in claims.TRUE else "false"
            print(f"| {kind} ({side}) | {n[kind]} | " + " | ".join(f"{shares[m][kind]:.3f}" for m in checker.MODES) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
