"""What each answering rule is worth, measured on public data: every rule with and without, and calibration.

    python bench/rules.py ../shared/benchmarks/squad2-cs224n-dev [--realtimeqa ../shared/benchmarks/realtimeqa]
                          [--sample 1500] [--test 3000] [--calibrate] [--json]

SQuAD 2.0 questions are shuffled with seed 0: the first `--sample` form the calibration sample,
the next `--test` the test sample. Passages are retrieved once per question; then the offline
answerer runs once per configuration with refusal off, so that one run gives, for any
threshold, whether the answer would be refused (its top evidence score is below it) and whether
it contains a gold answer. Reported per configuration:

    contain      answerable questions whose answer holds a gold answer, refusal off (ranking quality)
    contain@t    the same at the threshold, refused answers counting as wrong
    false_ref@t  answerable questions refused at the threshold
    refuse@t     unanswerable questions refused at the threshold (SQuAD only; RealTime QA has none)
    refuse@5%FR  the same at the threshold that falsely refuses 5% of this sample's answerable questions,
                 so that configurations are compared at one operating point
    fixed/broke  answerable questions this configuration gets right and the first one wrong, and back

`--calibrate` chooses the weights and the threshold on the calibration sample alone (the margin
stays at its default: containment rewards longer answers, so it would always pick the widest): for each
weight setting the threshold is the highest that falsely refuses at most 5% of its answerable
questions, and a setting replaces the incumbent (the first) only on a clear win in contain@t (a
sign test over the questions one gets right and the other wrong, at two standard deviations). Without it, the configured rules are
measured with each rule and alternative removed in turn, on the test sample and RealTime QA.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from common import ROOT, contains, in_passages, progress, settings_over, table, write_jsonl

from rag import text as T
from rag.answer import answer_types, pipeline
from rag.answer.extractive import Extractive
from rag.answer.rules import ANNOUNCES, Rules
from rag.answer.verify import MARKER

FALSE_REFUSAL_BUDGET = 0.05
WEIGHTS = [(0.5, 0.3, 0.2), (0.7, 0.2, 0.1), (0.6, 0.2, 0.2), (0.5, 0.5, 0.0), (0.4, 0.3, 0.3), (0.8, 0.1, 0.1),
           (0.4, 0.4, 0.2), (0.6, 0.3, 0.1), (0.3, 0.5, 0.2)]
# Alternatives once in the table, measured to show whether they earn their place back.
EXTRA = {
    "count +population/rate/units": ("count", r"|\b(length|km|kilometers|miles|population)\b|\b(exchange|interest|inflation|unemployment) rate\b"),
    "percent +rating/share": ("percent", r"|\b(share|rating)\b"),
    "year +years in": ("year", r"|\byears in\b"),
    "place +forum/venue/newspaper/channel": ("place", r"|\b(which|what) (forum|venue|newspaper|channel)\b"),
    "person +expert/activist/minister": ("person", r"|\bwhich (expert|activist|minister)\b"),
    "count +quantity nouns": ("count", r"|\bwhat (is|was|are|were) the (total |current |average )?(population|number|amount|"
                              r"price|cost|rate|length|height|width|depth|area|distance|temperature|budget|salary|value)\b"),
    "count +unit words": ("count", r"|\b(km|kilometers|kilometres|miles|metres|meters|feet|tons|tonnes|dollars|euros)\b"),
}
ATTRIBUTION = re.compile(r"^\W*(this|that|these|those|such|according to (the|this|that) \w+|according to (him|her|them|it)|"
                         r"(it|he|she|they) (said|stated|added|noted))\b", re.I)


def squad(data: Path, sample: int, test: int) -> tuple[Path, list[tuple[str, str, list[str]]], list[tuple[str, str, list[str]]]]:
    """The SQuAD corpus file, and the calibration and test samples as (id, question, gold answers; [] if none)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from squad2 import paragraphs

    paras = paragraphs(data / "dev-v2.0.json", "dev-") + paragraphs(data / "distractors-test-v2.0-noanswers.json", "test-")
    work = ROOT / "index" / "bench" / "squad2"
    write_jsonl(work / "corpus.jsonl", ({"id": i, "title": t, "text": c} for i, t, c, _ in paras))
    qs = [(qa["id"], qa["question"], [x["text"] for x in qa["answers"]])
          for pid, _, _, qas in paras if pid.startswith("dev-") for qa in qas]
    random.Random(0).shuffle(qs)
    return work, qs[:sample], qs[sample : sample + test]


def realtimeqa(data: Path) -> tuple[Path, list[tuple[str, str, list[str]]]]:
    sys.path.insert(0, str(Path(__file__).parent))
    from realtimeqa import STEM, corpus

    work = ROOT / "index" / "bench" / "realtimeqa"
    corpus(data, work / "corpus.jsonl")
    rows = [json.loads(line) for line in (data / f"{STEM}_qa.jsonl").read_text().splitlines()]
    return work, [(r["question_id"], r["question_sentence"], [r["choices"][int(r["answer"][0])]]) for r in rows]


def retrieved(work: Path, questions: list[tuple[str, str, list[str]]], label: str) -> tuple[pipeline.Pipeline, list]:  # type: ignore[type-arg]
    """The pipeline over a data set's corpus, and each question's parts and passages."""
    pipe = pipeline.build(settings_over(work), progress=sys.stderr.isatty())
    pipe.retriever.embed.size = 1_000_000  # type: ignore[attr-defined]  # every sentence stays embedded across configurations
    out = []
    for _, q, golds in progress(questions, f"retrieving {label}"):
        parts = T.split_question(q)
        out.append((q, parts, pipe.retrieve(q, parts, 5), golds))
    return pipe, out


class Outcome(NamedTuple):
    score: float  # the best sentence's evidence score
    answerable: bool  # a gold answer is in the retrieved passages
    contains: bool  # the answer holds a gold answer
    words: int  # the answer's length


def outcomes(pipe: pipeline.Pipeline, asked: list, rules: Rules) -> list[Outcome]:  # type: ignore[type-arg]
    """What the answerer does with each question, refusal off.

    A question counts as answerable when a gold answer is in its retrieved passages: whether the
    answerer should answer depends on what it was given, not on what retrieval missed.
    """
    base = pipe.generator
    return judge(Extractive(base.embed, base.idf, base.documents, rules=rules), asked)  # type: ignore[attr-defined]


def judge(answerer: Extractive, asked: list) -> list[Outcome]:  # type: ignore[type-arg]
    """`answerer` on each (question, parts, hits, gold answers), its threshold set aside."""
    answerer = replace(answerer, rules=replace(answerer.rules, threshold=-9.0))
    out = []
    for q, parts, hits, golds in asked:
        top = max((s.score for part in parts for s in answerer.score(part, hits)[:1]), default=-9.0)
        text = answerer.generate(q, parts, hits).text
        out.append(Outcome(top, in_passages(hits, golds), any(contains(text, g) for g in golds),
                           len(T.words(MARKER.sub("", text)))))
    return out


def figures(rows: list[Outcome], t: float, base: list[Outcome] | None = None,
            refusals: bool = True) -> dict[str, object]:
    """The figures of one configuration at threshold `t`; against `base`, the answers it fixes and breaks."""
    ans = [r for r in rows if r.answerable]
    una = [r for r in rows if not r.answerable] if refusals else []
    mean = lambda xs: sum(xs) / max(1, len(xs))  # noqa: E731
    out: dict[str, object] = {"contain": mean([r.contains for r in ans]), "words": mean([r.words for r in ans]),
                              "contain@t": mean([r.contains and r.score >= t for r in ans]),
                              "false_ref@t": mean([r.score < t for r in ans])}
    if base is not None:
        pairs = [(r.contains, b.contains) for r, b in zip(rows, base) if r.answerable]
        out["fixed/broke"] = f"{sum(r and not b for r, b in pairs)}/{sum(b and not r for r, b in pairs)}"
    if una:
        at = threshold(rows)
        out["refuse@t"] = mean([r.score < t for r in una])
        out["refuse@5%FR"] = mean([r.score < at for r in una])
    return out


def threshold(rows: list[Outcome], budget: float = FALSE_REFUSAL_BUDGET) -> float:
    """The highest threshold (to 0.01) refusing at most `budget` of the answerable questions."""
    scores = sorted(r.score for r in rows if r.answerable)
    cut = scores[int(budget * len(scores))] if scores else 0.0
    return round(int(cut * 100) / 100, 2)


def variants(rules: Rules) -> dict[str, Rules]:
    """The configured rules, and each with one rule or alternative removed (or a dropped one put back)."""
    out = {"all rules": rules}
    for t in rules.types:
        out[f"- type {t.name}"] = replace(rules, types=tuple(x for x in rules.types if x is not t))
    out["- word variants"] = replace(rules, variants=False)
    out["- missing-name penalty"] = replace(rules, missing_name=0.0)
    out["- missing-number penalty"] = replace(rules, missing_number=0.0)
    out["- 'This ...' carries on"] = replace(rules, refers_back=None)
    out["+ 'According to the report ...', 'It said ...' carry on"] = replace(rules, refers_back=ATTRIBUTION)
    out["+ ':' carries on"] = replace(rules, announces=ANNOUNCES)
    count = answer_types.BY_NAME["count"]
    counted = replace(count, holds=answer_types._counted)
    out["+ count: the counted noun must be in the sentence"] = replace(
        rules, types=tuple(counted if x is count else x for x in rules.types))
    for label, (name, extra) in EXTRA.items():  # a row the rules lack comes back from the seed-fitted table, widened
        row = next(t for t in (*rules.types, *answer_types.SEED_FITTED) if t.name == name)
        wider = replace(row, asks=re.compile(row.asks.pattern + extra, re.I))
        types = tuple(wider if x is row else x for x in rules.types)
        out[f"+ {label}"] = replace(rules, types=types if row in rules.types else (*types, wider))
    return out


def calibrate(pipe: pipeline.Pipeline, asked: list, refusals: bool) -> list[dict[str, object]]:  # type: ignore[type-arg]
    """Each weight setting at its own 5%-false-refusal threshold, against the incumbent (the first).

    A setting replaces the incumbent only when it wins clearly: it gets right more answerable
    questions than it gets wrong that the incumbent got right, by more than two standard
    deviations of a sign test (fixed - broke > 2 * sqrt(fixed + broke)).
    """
    rows, base = [], None
    for w in progress(WEIGHTS, "weights"):
        res = outcomes(pipe, asked, Rules(weights=w))
        t = threshold(res)
        right = [r.answerable and r.contains and r.score >= t for r in res]
        base = base or right
        fixed = sum(r and not b for r, b in zip(right, base))
        broke = sum(b and not r for r, b in zip(right, base))
        rows.append({"weights": str(w), "threshold": t, **figures(res, t, refusals=refusals),
                     "fixed/broke": f"{fixed}/{broke}", "clear win": fixed - broke > 2 * (fixed + broke) ** 0.5})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("squad_dir", type=Path, help="folder with dev-v2.0.json and distractors-test-v2.0-noanswers.json")
    ap.add_argument("--realtimeqa", type=Path, help="the RealTime QA folder, to measure on its questions too")
    ap.add_argument("--sample", type=int, default=1500, help="questions in the calibration sample")
    ap.add_argument("--test", type=int, default=3000, help="questions in the test sample, drawn after the calibration sample")
    ap.add_argument("--calibrate", action="store_true", help="choose weights and threshold on the calibration sample")
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    a = ap.parse_args()
    if not (a.squad_dir / "dev-v2.0.json").is_file():
        print(f"error: {a.squad_dir / 'dev-v2.0.json'} not found", file=sys.stderr)
        return 2
    work, cal, test = squad(a.squad_dir, a.sample, a.test)
    if a.calibrate:
        if a.realtimeqa:  # the news questions calibrate; their answer is what the passages hold
            pipe, asked = retrieved(*realtimeqa(a.realtimeqa), "RealTime QA")
        else:
            pipe, asked = retrieved(work, cal, "calibration")
        calibrated = calibrate(pipe, asked, refusals=not a.realtimeqa)
        print(json.dumps(calibrated) if a.json else table(calibrated, list(calibrated[0])))
        return 0
    base = Rules.measured()
    sets = [("squad", *retrieved(work, test, "SQuAD test"))] if test else []
    if a.realtimeqa:
        sets.append(("rtqa", *retrieved(*realtimeqa(a.realtimeqa), "RealTime QA")))
    rows: list[dict[str, object]] = []
    first: dict[str, list[Outcome]] = {}
    for label, rules in progress(list(variants(base).items()), "rules"):
        row: dict[str, object] = {"rules": label}
        for name, pipe, asked in sets:
            res = outcomes(pipe, asked, rules)
            first.setdefault(name, res)
            row |= {f"{name} {k}": v for k, v in figures(res, base.threshold, first[name], name == "squad").items()}
        rows.append(row)
    print(json.dumps(rows) if a.json else table(rows, list(rows[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
