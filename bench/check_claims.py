"""`rag check` against made-up claims about the corpus itself: each claim searched and checked over the whole corpus.

    python bench/check_claims.py [--n 100] [--seed 0] [--json]

Sentences of the configured corpus (the seed articles unless RAG_CORPUS_DIR says otherwise), turned into
true and false claims by the same rules as `bench/consistency.py` (train/claims.py), each checked as
`rag check --json -` checks a sentence: retrieved from the whole index and verified against every
retrieved passage. Unlike the consistency bench, which checks a claim against its own paragraph, a false
claim here can also pass by finding some other passage it seems to match, as a user's pasted text would.

Over a whole corpus two of the kinds are true: "joined" puts a sentence of another article after the
claim's own, and "event" is a sentence of another paragraph of the same article; both state what the
corpus says. The rest: true (itself, a clause, a short clause, a compression, a leading phrase moved
to the end) and false (a negation, a number changed, a name swapped for another of the article, two
noun phrases swapped, an invented cause). Prints, per kind, the share checked as supported.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import progress  # noqa: E402

from rag import text as T  # noqa: E402
from rag.answer import check, pipeline  # noqa: E402
from train import claims  # noqa: E402

TRUE_HERE = (*claims.TRUE, "joined", "event")  # true of the corpus as a whole


def samples(pipe: pipeline.Pipeline, n: int, seed: int) -> list[dict[str, str]]:
    """The claims made from up to `n` sentences (8 words or more) of the corpus, drawn with `seed`."""
    by_doc: dict[str, list[str]] = defaultdict(list)
    for p in pipe.retriever.index.paragraphs:
        if p.kind == "text":
            by_doc[p.source].append(p.text)
    rng, pool, arts = random.Random(seed), [], {}
    for doc, paras in sorted(by_doc.items()):
        sents = [p[a:b] for p in paras for a, b in T.sentence_spans(p)]
        others = [p.split(". ")[0] + "." for other, ps in sorted(by_doc.items()) if other != doc for p in ps[:3]]
        arts[doc] = claims.Article(sents, sorted({w for s in sents for w in claims.names_of(s)}), others or sents)
        pool += [(doc, p, p[a:b]) for p in paras for a, b in T.sentence_spans(p) if len(T.words(p[a:b])) >= 8]
    return [claims.claims(s, para, arts[doc], rng) for doc, para, s in rng.sample(pool, min(n, len(pool)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="sentences to make claims from")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    pipe = pipeline.build()
    made = samples(pipe, a.n, a.seed)
    kept, n = Counter[str](), Counter[str]()
    for kinds in progress(made, "claims"):
        for kind, claim in kinds.items():
            n[kind] += 1
            kept[kind] += all(s.supported for s in check.check(pipe, claim).sentences)
    shares = {k: round(kept[k] / n[k], 3) for k in n}
    if a.json:
        print(json.dumps({"claims": dict(n), "supported": shares}))
        return 0
    print("| kind | claims | supported |\n|---|---|---|")
    for kind in (*TRUE_HERE, *(k for k in claims.FALSE if k not in TRUE_HERE)):
        if n[kind]:
            print(f"| {kind} ({'true' if kind in TRUE_HERE else 'false'}) | {n[kind]} | {shares[kind]:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
