"""Can the local model refuse what the offline ranker lets through? SQuAD 2.0's near misses, asked of both LLM designs.

    python bench/llm_refusal.py ../shared/benchmarks/squad2-cs224n-dev [--design judge|evidence] [--limit N] [--json]

The SQuAD 2.0 test sample of `bench/rules.py` (3,000 questions after the 1,500 of the
calibration sample, seed 0) is retrieved and answered offline with the configured rules. Of
the questions the offline answerer answers, 80 unanswerable ones and 80 answerable ones (a gold
answer in their passages) are drawn with seed 0, and the first `--limit` of each go to the local
model (`make setup-llm`):

    judge     the model says yes or no to each of the ranker's four best sentences; none accepted is a refusal
    evidence  the model writes its answer from the ranker's six best sentences; "not in the evidence" is a refusal

Reported: how many questions of each kind the offline answerer answers (on stderr), how many of
the sample the model turns down, and how many answerable answers hold a gold answer, the model's
against the offline answerer's (fixed/broke: right only with the model, right only offline).
Both designs in the product refuse only where the ranker does; this measures whether the model's
own "no" would be worth honouring.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import contains, table
from rules import retrieved, squad

from rag import local
from rag.config import get_settings
from rag.evidence import EvidenceFirst, Judge, candidates
from rag.llm import OpenAICompatible, is_refusal

DRAWN = 80  # of each kind, drawn once so that a smaller --limit asks a prefix of the same questions


def drawn(pipe, asked: list) -> dict[str, list]:  # type: ignore[no-untyped-def, type-arg]
    """The questions the offline answerer answers, with its answer: 80 unanswerable and 80 answerable, seed 0."""
    kinds: dict[str, list] = {"unanswerable": [], "answerable": []}  # type: ignore[type-arg]
    for q, parts, hits, golds in asked:
        draft = pipe.generator.generate(q, parts, hits)
        if draft.refused or (golds and not any(contains(" ".join(h.paragraph.text for h in hits), g) for g in golds)):
            continue
        kinds["answerable" if golds else "unanswerable"].append((q, parts, hits, golds, draft.text))
    print("answered offline:", ", ".join(f"{len(rows)} {kind}" for kind, rows in kinds.items()), file=sys.stderr)
    rng = random.Random(0)
    return {kind: rng.sample(rows, min(DRAWN, len(rows))) for kind, rows in kinds.items()}


def asker(design: str, ranker, llm: OpenAICompatible, prompts_dir: Path):  # type: ignore[no-untyped-def]
    """A function from (question, parts, hits) to (the model turned it down, the model's answer)."""
    if design == "judge":
        judge = Judge(llm, ranker, prompts_dir)

        def ask_judge(q: str, parts: list[str], hits: list) -> tuple[bool, str]:  # type: ignore[type-arg]
            draft = judge.generate(q, parts, hits)
            return draft.refused, draft.text

        return ask_judge
    writer = EvidenceFirst(llm, ranker, prompts_dir)

    def ask_writer(q: str, parts: list[str], hits: list) -> tuple[bool, str]:  # type: ignore[type-arg]
        reply = llm.complete(writer.messages(q, candidates(ranker, parts, hits, writer.most)))
        return is_refusal(reply), reply

    return ask_writer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("squad_dir", type=Path, help="folder with dev-v2.0.json and distractors-test-v2.0-noanswers.json")
    ap.add_argument("--design", choices=("judge", "evidence"), default="judge", help="how the model reads the ranker's sentences")
    ap.add_argument("--limit", type=int, default=DRAWN, help=f"questions of each kind to ask (at most {DRAWN})")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    a = ap.parse_args()
    if not (a.squad_dir / "dev-v2.0.json").is_file():
        print(f"error: {a.squad_dir / 'dev-v2.0.json'} not found", file=sys.stderr)
        return 2
    if not 1 <= a.limit <= DRAWN:
        print(f"error: --limit must be between 1 and {DRAWN}", file=sys.stderr)
        return 2
    s = get_settings()
    work, _, test = squad(a.squad_dir, 1500, 3000)
    pipe, asked = retrieved(work, test, "SQuAD test")
    sample = {kind: cases[: a.limit] for kind, cases in drawn(pipe, asked).items()}
    server = local.server(s.model_path, s.llm_threads, s.llm_context, s.llm_parallel)
    timeout = max(s.llm_timeout, 300.0)  # SQuAD's long sentences, two requests at once: a slow answer is no failure here
    llm = OpenAICompatible("local", s.prompts_dir, server.base_url, "", timeout, 0, server.name, s.llm_max_tokens)
    ask = asker(a.design, pipe.generator, llm, s.prompts_dir)
    items = [(kind, row) for kind, cases in sample.items() for row in cases]
    started = time.monotonic()
    with ThreadPoolExecutor(s.llm_parallel) as pool:
        replies = list(pool.map(lambda item: ask(*item[1][:3]), items))
    seconds = round((time.monotonic() - started) / max(len(items), 1), 1)
    rows = [summary(a.design, kind, [(row, reply) for (k, row), reply in zip(items, replies) if k == kind], seconds)
            for kind in sample]
    widest: dict[str, object] = max(rows, key=len)  # the row with every column
    print(json.dumps(rows) if a.json else table(rows, list(widest)))
    return 0


def summary(design: str, kind: str, asked: list, seconds: float) -> dict[str, object]:  # type: ignore[type-arg]
    """One table row: the questions of one kind, each with the model's (turned down, answer)."""
    row: dict[str, object] = {"design": design, "kind": kind, "asked": len(asked),
                              "turned down": sum(down for _, (down, _) in asked)}
    if kind == "answerable":
        model = [not down and any(contains(text, g) for g in q[3]) for q, (down, text) in asked]
        offline = [any(contains(q[4], g) for g in q[3]) for q, _ in asked]
        row |= {"model holds gold": sum(model), "offline holds gold": sum(offline),
                "fixed/broke": f"{sum(m and not o for m, o in zip(model, offline))}/{sum(o and not m for m, o in zip(model, offline))}"}
    return row | {"s/question": seconds}


if __name__ == "__main__":
    sys.exit(main())
