"""True claims in other words: the local model restates sentences of SQuAD 2.0's training articles, as an
answer's sentence restates the passage it cites (the consistency model's positives the rules cannot make).

    python -m train.paraphrases ../shared/benchmarks/squad2-cs224n-dev --out PARAPHRASES.jsonl [--n 450]

The sentences are the first `n` of those train/claims.py draws from the `encoder` articles (or, with
`--part head`, the `head` articles), with the seeds train/checker.py uses; nothing of the `test` articles is
restated. The bundled model (`make
setup-llm`) answers at temperature 0 with two lines: the whole sentence in other words, and one of its facts
as a short sentence of its own. A reply without both, or one that adds a number or a name the sentence lacks,
is dropped and counted. Each line written: the sentence's sha1 (never its text: it stays in the data
folder), the two restatements. The run appends and skips sentences already written, so an interrupted run
goes on where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from train import claims, squad
from train.checker import N_SENTENCES

PROMPT = """Sentence: {sentence}

1. Rewrite the sentence in your own words. Keep every fact; add nothing.
2. State one fact of the sentence as a short sentence of your own.
Reply with the two sentences only, one per line, numbered 1. and 2."""


def key(sentence: str) -> str:
    return hashlib.sha1(sentence.encode()).hexdigest()[:16]


PARTS = ("encoder", "head")  # train/checker.py's order, whose index is each part's seed


def sentences(data: Path, part: str, n: int) -> list[tuple[str, str]]:
    """(paragraph, sentence) for the first `n` sentences train/checker.py draws from the `part` articles."""
    names = json.loads(squad.SPLIT_FILE.read_text())["parts"][part]
    return [(para, s) for para, s, _ in claims.sample(data, names, N_SENTENCES[part], seed=PARTS.index(part))][:n]


def parsed(reply: str, sentence: str) -> tuple[str, str] | None:
    """The reply's two restatements, or None when it has not both or adds a number or a name.

    >>> parsed("1. The war began in 1914.\\n2. A war began.", "In 1914 the war began.")
    ('The war began in 1914.', 'A war began.')
    >>> parsed("1. The war began in 1915.\\n2. A war began.", "In 1914 the war began.") is None
    True
    """
    from rag import text as T

    lines = [x.strip() for x in reply.splitlines() if x.strip()]
    got = [x.split(".", 1)[1].strip() for x in lines if x[:2] in ("1.", "2.")]
    if len(got) != 2 or not all(len(T.words(x)) >= 3 for x in got):
        return None
    source = {w.lower() for w in T.words(sentence)}
    for x in got:
        if T.numbers(x) - T.numbers(sentence) or {w.lower() for n in claims.names_of(x) for w in T.words(n)} - source:
            return None
    return got[0], got[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="the squad2-cs224n-dev folder")
    ap.add_argument("--out", type=Path, required=True, help="the JSONL file to append to")
    ap.add_argument("--n", type=int, default=450, help="sentences to restate")
    ap.add_argument("--part", default="encoder", choices=PARTS,
                    help="the articles: encoder (to train on) or head (to set the threshold on)")
    args = ap.parse_args()
    if not (args.data / squad.DEV).is_file():
        print(f"error: {args.data / squad.DEV} is missing", file=sys.stderr)
        return 2
    import openai
    from tqdm import tqdm

    from rag.answer import local_server
    from rag.config import get_settings

    s = get_settings()
    client = openai.OpenAI(base_url=local_server.server(s.model_path, s.llm_threads, parallel=2).base_url, api_key="local")
    done = {r["sha1"] for r in map(json.loads, args.out.read_text().splitlines())} if args.out.exists() else set()
    todo = [x for x in dict.fromkeys(s for _, s in sentences(args.data, args.part, args.n)) if key(x) not in done]

    def ask(sentence: str) -> tuple[str, tuple[str, str] | None]:
        reply = client.chat.completions.create(model="local", temperature=0, max_tokens=120,
                                               messages=[{"role": "user", "content": PROMPT.format(sentence=sentence)}])
        return sentence, parsed(reply.choices[0].message.content or "", sentence)

    dropped, started = 0, time.time()
    with args.out.open("a", encoding="utf-8") as out, ThreadPoolExecutor(2) as pool:
        for sentence, got in tqdm(pool.map(ask, todo), total=len(todo), desc="paraphrases"):
            if got is None:
                dropped += 1
                continue
            out.write(json.dumps({"sha1": key(sentence), "paraphrase": got[0], "fact": got[1]}) + "\n")
            out.flush()
    print(f"{len(todo) - dropped} written, {dropped} dropped, {time.time() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
