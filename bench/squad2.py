"""SQuAD 2.0 (CS224N dev half) as a refusal test: every paragraph indexed, every question asked.

    python bench/squad2.py ../shared/benchmarks/squad2-cs224n-dev [--json] [--sample N]

All paragraphs of dev-v2.0.json plus those of the distractor file are indexed, one document
each. For each question: hit@5 on the paragraph it was written against; on the 3,168
unanswerable questions the refusal rate, on the 2,910 answerable ones the false-refusal rate
and whether a gold answer is contained in the answer. The curve of refusal against false
refusal over the refusal threshold shows where the default sits.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from common import ROOT, contains, figures_table, mean, progress, settings_over, table, write_jsonl

from rag import text as T
from rag.answer import pipeline

CURVE = [round(0.2 + 0.05 * i, 2) for i in range(11)]


def paragraphs(path: Path, prefix: str) -> list[tuple[str, str, str, list[dict]]]:
    """(document id, article title, context, questions) for every paragraph of a SQuAD file."""
    out = []
    for a, article in enumerate(json.loads(path.read_text())["data"]):
        for p, para in enumerate(article["paragraphs"]):
            out.append((f"{prefix}{a:02d}-{p:03d}", article["title"].replace("_", " "), para["context"], para["qas"]))
    return out


def corpus(data_dir: Path) -> tuple[Path, list[tuple[str, str, str, list[dict]]]] | None:  # type: ignore[type-arg]
    """The folder of the bench's index, with its corpus written (the same bytes each time, so the index stays
    fresh), and every paragraph; None, with a line on stderr, when the dev file is missing."""
    dev, distract = data_dir / "dev-v2.0.json", data_dir / "distractors-test-v2.0-noanswers.json"
    if not dev.is_file():
        print(f"error: {dev} not found", file=sys.stderr)
        return None
    work = ROOT / "index" / "bench" / "squad2"
    paras = paragraphs(dev, "dev-") + (paragraphs(distract, "test-") if distract.is_file() else [])
    write_jsonl(work / "corpus.jsonl", ({"id": i, "title": t, "text": c} for i, t, c, _ in paras))
    return work, paras


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path, help="folder with dev-v2.0.json and distractors-test-v2.0-noanswers.json")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of tables")
    ap.add_argument("--sample", type=int, default=0, help="ask N questions drawn with seed 0 (0: all)")
    a = ap.parse_args()
    if (found := corpus(a.data_dir)) is None:
        return 2
    work, paras = found
    pipe = pipeline.build(settings_over(work), progress=sys.stderr.isatty())
    questions = [(pid, qa) for pid, _, _, qas in paras if pid.startswith("dev-") for qa in qas]
    if a.sample:
        questions = random.Random(0).sample(questions, min(a.sample, len(questions)))
    t0 = time.perf_counter()
    results = [asked(pipe, pid, qa) for pid, qa in progress(questions, "asking")]
    result, curve = summary(results, time.perf_counter() - t0, pipe.generator.rules.threshold)  # type: ignore[attr-defined]
    if a.json:
        print(json.dumps({"dataset": "squad2-cs224n-dev", "results": result, "curve": curve}))
        return 0
    print(f"SQuAD 2.0 dev half: {len(results)} questions over {len(paras)} paragraphs")
    print(figures_table(result))
    print()
    print("refusal threshold curve (top sentence score below the threshold = refused):")
    print(table(curve, ["threshold", "refusal", "false_refusal"]))
    return 0


def asked(pipe: pipeline.Pipeline, pid: str, qa: dict) -> dict[str, object]:  # type: ignore[type-arg]
    """One question through the pipeline: whether its paragraph was retrieved, its best score, its answer's fate."""
    parts = T.split_question(qa["question"])
    hits = pipe.retrieve(qa["question"], parts, 5)
    top = max((s.score for part in parts for s in pipe.generator.score(part, hits)[:1]), default=-1.0)  # type: ignore[attr-defined]
    answer = pipe.ask(qa["question"])
    golds = [x["text"] for x in qa["answers"]]
    return {"answerable": not qa["is_impossible"], "hit@5": pid in [h.paragraph.source for h in hits],
            "score": top, "refused": answer.refused,
            "contains": (not answer.refused) and any(contains(answer.answer, g) for g in golds)}


def summary(results: list[dict], seconds: float, threshold: float) -> tuple[dict[str, object], list[dict[str, float]]]:  # type: ignore[type-arg]
    """The figures over all questions, and refusal against false refusal along `CURVE`."""
    ans = [r for r in results if r["answerable"]]
    una = [r for r in results if not r["answerable"]]
    result: dict[str, object] = {
        "questions": len(results), "answerable": len(ans), "unanswerable": len(una),
        "hit@5": mean(results, "hit@5"), "hit@5_answerable": mean(ans, "hit@5"),
        "refusal_rate_unanswerable": mean(una, "refused"), "false_refusal_rate": mean(ans, "refused"),
        "containment_accuracy": mean(ans, "contains"), "seconds_per_question": seconds / max(1, len(results)),
        "threshold": threshold,
    }
    curve = [{"threshold": t, "refusal": sum(r["score"] < t for r in una) / max(1, len(una)),
              "false_refusal": sum(r["score"] < t for r in ans) / max(1, len(ans))} for t in CURVE]
    return result, curve


if __name__ == "__main__":
    sys.exit(main())
