"""Can the local model refuse what the offline ranker lets through? SQuAD 2.0's near misses, or RGB's.

    python bench/llm_refusal.py ../shared/benchmarks/squad2-cs224n-dev [--design judge|evidence|check] [--limit N] [--json]
    python bench/llm_refusal.py ../shared/benchmarks/rgb --rgb [--design ...]

The SQuAD 2.0 test sample of `bench/rules.py` (3,000 questions after the 1,500 of the
calibration sample, seed 0) is retrieved and answered offline with the configured rules. Of
the questions the offline answerer answers, 80 unanswerable ones and 80 answerable ones (a gold
answer in their passages) are drawn with seed 0, and the first `--limit` of each go to the local
model (`make setup-llm`). With `--rgb`, RGB's cases (`bench/rgb.py`: each question with five of its
passages, then with five of its negatives alone) take the place of SQuAD's, drawn the same way:

    judge     the model says yes or no to each of the ranker's four best sentences; none accepted is a refusal
    evidence  the model writes its answer from the ranker's six best sentences; "not in the evidence" is a refusal
    check     the model says yes or no to the ranker's best sentence alone; no is a refusal (what both
              designs do first with `RAG_LLM_CHECK=true`)

Reported: how many questions of each kind the offline answerer answers (on stderr), how many of
the sample the model turns down, and how many answerable answers hold a gold answer, the model's
against the offline answerer's (fixed/broke: right only with the model, right only offline). For
comparison, `threshold instead`: how many of the unanswerable ones a higher ranker threshold would
refuse, set to turn down as many of the answerable ones as the model did. This measures whether
the model's own "no" is worth honouring, and whether it is worth more than a stricter ranker.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import rgb
from common import contains, in_passages, table
from rules import retrieved, squad

from rag.answer import local_server
from rag.answer.designs import EvidenceFirst, Judge, candidates
from rag.answer.extractive import Extractive
from rag.answer.llm import OpenAICompatible, is_refusal
from rag.answer.rules import PRESETS
from rag.config import get_settings

DRAWN = 80  # of each kind, drawn once so that a smaller --limit asks a prefix of the same questions


def questions(data: Path, from_rgb: bool) -> tuple[Extractive, list]:  # type: ignore[type-arg]
    """The offline ranker with the configured rules, and each question's (question, parts, hits, golds): SQuAD 2.0's test
    sample, or RGB's cases (`bench/rgb.py`), where golds are kept only when a gold answer is in the case's passages."""
    if not from_rgb:
        work, _, test = squad(data, 1500, 3000)
        pipe, asked = retrieved(work, test, "SQuAD test")
        return pipe.generator, asked  # type: ignore[return-value]
    embed_fn, idf, cases = rgb.load(data / "en_fact.json")
    return (Extractive(embed_fn, idf, rules=PRESETS[get_settings().rules]()),
            [(q, parts, hits, golds if in_passages(hits, golds) else []) for q, parts, hits, golds in cases])


def drawn(ranker: Extractive, asked: list) -> dict[str, list]:  # type: ignore[type-arg]
    """The questions the offline answerer answers, with its answer and best score: 80 unanswerable and 80 answerable, seed 0."""
    kinds: dict[str, list] = {"unanswerable": [], "answerable": []}  # type: ignore[type-arg]
    for q, parts, hits, golds in asked:
        draft = ranker.generate(q, parts, hits)
        if draft.refused or (golds and not in_passages(hits, golds)):
            continue
        top = max((x.score for part in parts for x in ranker.score(part, hits)[:1]), default=0.0)
        kinds["answerable" if golds else "unanswerable"].append((q, parts, hits, golds, draft.text, top))
    print("answered offline:", ", ".join(f"{len(rows)} {kind}" for kind, rows in kinds.items()), file=sys.stderr)
    rng = random.Random(0)
    return {kind: rng.sample(rows, min(DRAWN, len(rows))) for kind, rows in kinds.items()}


def asker(design: str, ranker, llm: OpenAICompatible, prompts_dir: Path):  # type: ignore[no-untyped-def]
    """A function from (question, parts, hits) to (the model turned it down, the model's answer)."""
    if design == "check":
        check = EvidenceFirst(llm, ranker, prompts_dir, check=True)

        def ask_check(q: str, parts: list[str], hits: list) -> tuple[bool, str]:  # type: ignore[type-arg]
            offline = check.screened(q, parts, hits)
            return offline is None, offline.text if offline else ""

        return ask_check
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
    ap.add_argument("data_dir", type=Path, help="folder with dev-v2.0.json and distractors-test-v2.0-noanswers.json, "
                                                "or RGB's with en_fact.json (--rgb)")
    ap.add_argument("--rgb", action="store_true", help="ask RGB's news questions instead of SQuAD 2.0's")
    ap.add_argument("--design", choices=("judge", "evidence", "check"), default="judge", help="how the model reads the ranker's sentences")
    ap.add_argument("--limit", type=int, default=DRAWN, help=f"questions of each kind to ask (at most {DRAWN})")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    a = ap.parse_args()
    needed = a.data_dir / ("en_fact.json" if a.rgb else "dev-v2.0.json")
    if not needed.is_file():
        print(f"error: {needed} not found", file=sys.stderr)
        return 2
    if not 1 <= a.limit <= DRAWN:
        print(f"error: --limit must be between 1 and {DRAWN}", file=sys.stderr)
        return 2
    s = get_settings()
    ranker, asked = questions(a.data_dir, a.rgb)
    sample = {kind: cases[: a.limit] for kind, cases in drawn(ranker, asked).items()}
    server = local_server.server(s.model_path, s.llm_threads, s.llm_context, s.llm_parallel)
    timeout = max(s.llm_timeout, 300.0)  # SQuAD's long sentences, two requests at once: a slow answer is no failure here
    llm = OpenAICompatible("local", s.prompts_dir, server.base_url, "", timeout, 0, server.name, s.llm_max_tokens)
    ask = asker(a.design, ranker, llm, s.prompts_dir)
    items = [(kind, row) for kind, cases in sample.items() for row in cases]
    started = time.monotonic()
    with ThreadPoolExecutor(s.llm_parallel) as pool:
        replies = list(pool.map(lambda item: ask(*item[1][:3]), items))
    seconds = round((time.monotonic() - started) / max(len(items), 1), 1)
    rows = [summary(a.design, kind, [(row, reply) for (k, row), reply in zip(items, replies) if k == kind], seconds)
            for kind in sample]
    kind = {str(row["kind"]): row for row in rows}
    kind["unanswerable"]["threshold instead"] = stricter(sample, int(kind["answerable"]["turned down"]))  # type: ignore[call-overload]
    print(json.dumps(rows) if a.json else table(rows, list(dict.fromkeys(k for row in rows for k in row))))
    return 0


def stricter(sample: dict[str, list], down: int) -> int:  # type: ignore[type-arg]
    """Unanswerable questions a ranker threshold refuses when set to refuse `down` of the answerable ones."""
    scores = sorted(row[5] for row in sample["answerable"])
    t = scores[down] if down < len(scores) else float("inf")
    return sum(row[5] < t for row in sample["unanswerable"])


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
