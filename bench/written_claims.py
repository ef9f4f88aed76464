"""`rag check` on hand-written claims about the seed articles (eval/claims/): per kind, the share checked as supported.

    python bench/written_claims.py [--verify rules|learned] [--split working|sealed|all] [--json]

Each claim (eval/claims/claims.jsonl: written from the articles alone, before any system was run on
it, and labelled true or false) is checked as `rag check --json -` checks a pasted sentence: retrieved
for over the whole index and verified against every retrieved passage. A true claim counts as
accepted when every sentence of it is supported; it is cited right when some citation's quote holds
one of its evidence quotes' words (two thirds of them or more). A good checker accepts the true kinds
(verbatim, compressed, paraphrased, combined) and none of the false ones (entity, number, role,
negation, joined, cause, near). The sealed third (claims whose number is a multiple of 3) is kept for
the final figure and tunes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "eval" / "claims"
TRUE_KINDS = ("verbatim", "compressed", "paraphrased", "combined")
FALSE_KINDS = ("entity", "number", "role", "negation", "joined", "cause", "near")
SPLITS = ("working", "sealed")


def read(path: Path = HERE / "claims.jsonl") -> list[dict[str, Any]]:
    """The claims, each with its `split`."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{**r, "split": split_of(r["id"])} for r in rows]


def split_of(claim_id: str) -> str:
    """Every third claim by number is sealed.

    >>> [split_of(f"c{n:03d}") for n in (1, 2, 3, 6)]
    ['working', 'working', 'sealed', 'sealed']
    """
    return "sealed" if int(claim_id.lstrip("c")) % 3 == 0 else "working"


def cited_right(quotes: list[str], evidence: list[str]) -> bool:
    """Whether some cited quote holds two thirds or more of the words of one of the evidence quotes.

    >>> cited_right(["Tokayev asked Russia to send troops on Wednesday."], ["asked Russia to send troops"])
    True
    >>> cited_right(["Putin spoke."], ["asked Russia to send troops"])
    False
    """
    from rag import text as T

    return any(T.overlap(e, q, {}) >= 2 / 3 for e in evidence for q in quotes)


def figures(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per split and kind: claims, the share accepted, and for true kinds the share accepted and cited right."""
    out = []
    for split in SPLITS:
        for kind in (*TRUE_KINDS, *FALSE_KINDS):
            seen = [r for r in rows if r["split"] == split and r["kind"] == kind]
            if not seen:
                continue
            row: dict[str, Any] = {"split": split, "kind": kind, "truth": "true" if kind in TRUE_KINDS else "false",
                                   "claims": len(seen), "accepted": round(sum(r["accepted"] for r in seen) / len(seen), 3)}
            if kind in TRUE_KINDS:
                row["cited right"] = round(sum(r["accepted"] and r["cited"] for r in seen) / len(seen), 3)
            out.append(row)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verify", default="", choices=("", "rules", "learned"), help="RAG_VERIFY for this run")
    ap.add_argument("--split", default="working", choices=(*SPLITS, "all"))
    ap.add_argument("--show", action="store_true", help="print each claim checked wrongly, with its notes")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.verify:
        os.environ["RAG_VERIFY"] = a.verify
    sys.path.insert(0, str(ROOT / "bench"))
    from common import progress, table

    from rag.answer import check, pipeline

    pipe = pipeline.build()
    rows = [r for r in read() if a.split in ("all", r["split"])]
    for r in progress(rows, "claims"):
        done = check.check(pipe, r["claim"])
        r["accepted"] = all(s.supported for s in done.sentences)
        r["cited"] = cited_right([c.quote for s in done.sentences for c in s.citations], r["evidence"])
        if a.show and r["accepted"] != r["supported"]:
            print(r["id"], r["kind"], r["claim"], [n for s in done.sentences for n in s.notes], file=sys.stderr)
    out = figures(rows)
    cols = ["split", "kind", "truth", "claims", "accepted", "cited right"]
    print(json.dumps(out) if a.json else table(out, cols))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
