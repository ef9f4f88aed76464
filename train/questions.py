"""Questions the local model writes about SQuAD 2.0 paragraphs of the training articles: why and how questions
answered by one or two sentences, and near misses (a detail the paragraph never gives), for the reader's
and the cross-encoder's kinds that SQuAD holds too few of.

    python -m train.questions ../shared/benchmarks/squad2-cs224n-dev --out train/questions.jsonl [--n 120]

Paragraphs are drawn with a fixed seed from the `encoder` articles (train/splits/squad2.json) only. The
bundled model (`make setup-llm`) sees the paragraph's numbered sentences and answers in JSON, at
temperature 0; a reply that is no such JSON, cites a sentence the paragraph lacks or asks nothing is
dropped and counted. Each line written: the article, the paragraph's index in it, and the two questions
with the sentence numbers (never the paragraph's text: it stays in the data folder). The run appends and
skips paragraphs already written, so an interrupted run goes on where it stopped.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from rag import text as T
from train import squad

PROMPT = """Sentences of a passage:
{numbered}

Write two questions a reader might ask about this passage.
1. A "why" or "how" question whose answer needs one or two of the sentences above (give their numbers).
2. A question about a person, place or thing the passage names, asking for a detail (a date, a number, a name,
a reason or a place) that the passage does NOT give.
Answer with JSON only: {{"answered": {{"question": "...", "sentences": [n]}}, "unanswered": "..."}}"""
ASKS = re.compile(r"^(why|how)\b", re.IGNORECASE)


def paragraphs(data: Path, n: int, seed: int = 0) -> list[tuple[str, int, list[str]]]:
    """(article, paragraph index, sentences) for `n` paragraphs of the `encoder` articles, drawn with `seed`."""
    wanted = set(json.loads(squad.SPLIT_FILE.read_text())["parts"]["encoder"])
    pool = [(a["title"], i, [p["context"][s:e] for s, e in T.sentence_spans(p["context"])])
            for a in json.loads((data / squad.DEV).read_text())["data"] if a["title"] in wanted
            for i, p in enumerate(a["paragraphs"])]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def parsed(reply: str, sentences: int) -> dict[str, Any] | None:
    """The reply's two questions, or None when it is not the JSON asked for.

    >>> parsed('```json\\n{"answered": {"question": "Why did it fall?", "sentences": [1]}, "unanswered": "When?"}\\n```', 3)
    {'why_how': 'Why did it fall?', 'sentences': [1], 'near_miss': 'When?'}
    >>> parsed('{"answered": {"question": "What fell?", "sentences": [7]}, "unanswered": "When?"}', 3) is None
    True
    """
    start, end = reply.find("{"), reply.rfind("}")
    try:
        data = json.loads(reply[start : end + 1])
        q, cited, miss = data["answered"]["question"], data["answered"]["sentences"], data["unanswered"]
    except (ValueError, KeyError, TypeError):
        return None
    miss = miss.get("question") if isinstance(miss, dict) else miss
    if not (isinstance(q, str) and isinstance(miss, str) and q.strip().endswith("?") and miss.strip().endswith("?")):
        return None
    if not (isinstance(cited, list) and 1 <= len(cited) <= 2 and all(isinstance(i, int) and 0 <= i < sentences for i in cited)):
        return None
    return {"why_how": q.strip(), "sentences": sorted(set(cited)), "near_miss": miss.strip()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="the squad2-cs224n-dev folder")
    ap.add_argument("--out", type=Path, required=True, help="the JSONL file to append to")
    ap.add_argument("--n", type=int, default=120, help="paragraphs to ask about")
    args = ap.parse_args()
    if not (args.data / squad.DEV).is_file():
        print(f"error: {args.data / squad.DEV} is missing", file=sys.stderr)
        return 2
    import openai
    from tqdm import tqdm

    from rag.answer import local_server
    from rag.config import get_settings

    s = get_settings()
    client = openai.OpenAI(base_url=local_server.server(s.model_path, s.llm_threads).base_url, api_key="local")
    done = {(r["article"], r["paragraph"]) for r in map(json.loads, args.out.read_text().splitlines())} if args.out.exists() else set()
    todo = [p for p in paragraphs(args.data, args.n) if (p[0], p[1]) not in done]
    dropped, started = 0, time.time()
    with args.out.open("a", encoding="utf-8") as out:
        for article, index, sentences in tqdm(todo, desc="questions"):
            numbered = "\n".join(f"[{i}] {x}" for i, x in enumerate(sentences))
            reply = client.chat.completions.create(model="local", temperature=0, max_tokens=200,
                                                   messages=[{"role": "user", "content": PROMPT.format(numbered=numbered)}])
            got = parsed(reply.choices[0].message.content or "", len(sentences))
            if got is None:
                dropped += 1
                continue
            out.write(json.dumps({"article": article, "paragraph": index, **got,
                                  "why_or_how": bool(ASKS.match(got["why_how"]))}) + "\n")
            out.flush()
    print(f"{len(todo) - dropped} written, {dropped} dropped, {time.time() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
