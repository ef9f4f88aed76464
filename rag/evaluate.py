"""`rag eval`: score retrieval, answers, citations and refusals on a question set, gate on thresholds, and report.

Metrics (overall and per question type), in the spirit of ALCE (Gao et al. 2023):
    recall@k            share of gold evidence strings found in the k retrieved passages
    mrr                 1 / rank of the first passage holding gold evidence
    answer_accuracy     answerable questions whose answer matches every answer group
    citation_validity   citations whose quote equals file_text[start:end]
    citation_recall     share of gold evidence found in the cited paragraphs
    citation_precision  citations whose paragraph holds gold evidence or supports its sentence
    citation_on_evidence  citations of answerable questions whose paragraph holds gold evidence: the
                        hand-marked check alone, which does not take verification's word for support
    citation_support    cited sentences whose cited paragraphs support them by the learned checker
                        (`answer.support`), whichever checker verified the answer; reported, not gated
    citation_support_precision  citations the learned checker finds needed for their sentence (ALCE's rule)
    refusal_accuracy    unanswerable questions refused
    false_refusal_rate  answerable questions refused
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer import support as S
from rag.answer.pipeline import Answer
from rag.config import ROOT, Settings
from rag.errors import InputError

TYPES = ("single", "multi", "paraphrase", "boilerplate", "unanswerable")
DEFAULT_SET = ROOT / "eval" / "questions.jsonl"
DEFAULT_THRESHOLDS = ROOT / "eval" / "thresholds.json"
LLM_THRESHOLDS = ROOT / "eval" / "thresholds-llm.json"
# Each written apart and scored once (see eval/README.md); `users` is scored as work goes on, `users-sealed` once.
SEALED = ("sealed", "sealed-2", "sealed-3", "sealed-4", "users", "users-sealed")
SPLITS = ("all", "calibration", "holdout", *SEALED)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str
    answerable: bool
    answers: list[list[str]]
    sources: list[str]
    evidence: list[str]
    split: str = ""  # one of SEALED: written apart, scored once; never part of all, calibration or holdout
    kind: str = ""  # what the question asks for (why, how, summary, respelled, near-miss, ...): reported by kind


def load_set(path: Path, split: str = "all") -> list[Question]:
    """Questions of a JSONL file for one split.

    Each sealed split is its own. Of the others, every third one (the 3rd, 6th, ...)
    is the held-out split, the rest the calibration split, and `all` is both.
    """
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read question set {path}: {e.strerror}") from e
    out = []
    position = 0
    for n, line in enumerate((ln for ln in lines if ln.strip()), 1):
        try:
            row = json.loads(line)
            q = Question(**{f: row[f] for f in Question.__dataclass_fields__ if f in row or f not in ("split", "kind")})
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"{path} question {n} does not fit the schema in eval/README.md: {e}") from e
        if q.type not in TYPES or not isinstance(q.answerable, bool) or (q.answerable and not q.answers):
            raise InputError(f"{path} question {n} ({q.id}): type must be one of {', '.join(TYPES)}, "
                             "answerable a boolean, and an answerable question needs answers")
        if q.split and q.split not in SEALED:
            raise InputError(f"{path} question {n} ({q.id}): split must be one of {', '.join(SEALED)} or absent")
        if not q.split:
            position += 1
        group = q.split or ("holdout" if position % 3 == 0 else "calibration")
        if split == group or (split == "all" and group not in SEALED):
            out.append(q)
    return out


def score(q: Question, a: dict[str, Any], documents: dict[str, str], k: int,
          support: list[tuple[bool, list[bool]]] | None = None) -> dict[str, Any]:
    """Per-question figures; None where a metric does not apply to this question. `support`: `support.of(a)`."""
    passages = a["passages"][:k]
    found = [any(_holds(p["text"], ev) for p in passages) for ev in q.evidence]
    first = next((r for r, p in enumerate(passages, 1) if any(_holds(p["text"], ev) for ev in q.evidence)), None)
    by_id = {p["id"]: p["text"] for p in a["passages"]}
    cited = [by_id.get(c["id"], "") for c in a["citations"]]
    valid = [documents.get(c["source"], "")[c["start"] : c["end"]] == c["quote"] for c in a["citations"]]
    on_evidence = [any(_holds(t, ev) for ev in q.evidence) for t in cited]
    precise = [c["supported"] or on for c, on in zip(a["citations"], on_evidence)]
    text = a["answer"].lower()
    return {
        "id": q.id, "type": q.type,
        "recall@k": float(np.mean(found)) if q.answerable and q.evidence else None,
        "mrr": (1 / first if first else 0.0) if q.answerable and q.evidence else None,
        "answer_accuracy": (not a["refused"] and all(any(x.lower() in text for x in g) for g in q.answers))
        if q.answerable else None,
        "citation_validity": valid,
        "citation_recall": float(np.mean([any(_holds(t, ev) for t in cited) for ev in q.evidence]))
        if q.answerable and q.evidence else None,
        "citation_precision": precise,
        "citation_on_evidence": on_evidence if q.answerable and q.evidence else [],
        "citation_support": [ok for ok, _ in support or []],
        "citation_support_precision": [n for _, needed in support or [] for n in needed],
        "refusal_accuracy": a["refused"] if not q.answerable else None,
        "false_refusal_rate": a["refused"] if q.answerable else None,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Mean of each metric over the rows where it applies; citation metrics pool all citations."""
    out: dict[str, float | None] = {}
    for m in ("recall@k", "mrr", "answer_accuracy", "citation_recall", "refusal_accuracy", "false_refusal_rate"):
        vals = [float(r[m]) for r in rows if r[m] is not None]
        out[m] = round(float(np.mean(vals)), 4) if vals else None
    for m in ("citation_validity", "citation_precision", "citation_on_evidence", "citation_support",
              "citation_support_precision"):
        vals = [float(v) for r in rows for v in r[m]]
        out[m] = round(float(np.mean(vals)), 4) if vals else None
    out["questions"] = len(rows)
    return out


def gate(overall: dict[str, float | None], thresholds: dict[str, dict[str, float]], k: int) -> list[str]:
    """Every metric on the wrong side of its threshold, as a sentence."""
    failures = []
    for name, bound in thresholds.items():
        value = overall.get(name.replace(f"@{k}", "@k"))
        if value is None:
            continue
        if "min" in bound and value < bound["min"]:
            failures.append(f"{name} {value:.3f} is below its threshold {bound['min']}")
        if "max" in bound and value > bound["max"]:
            failures.append(f"{name} {value:.3f} is above its threshold {bound['max']}")
    return failures


def run(
    s: Settings, set_path: Path | None = None, out_dir: Path | None = None, thresholds_path: Path | None = None,
    mode: str = "hybrid", k: int = 5, split: str = "all", progress: bool = False,
) -> dict[str, Any]:
    """Run a question set through the pipeline, write the result and report when asked, and apply the gate."""
    from rich.progress import track

    from rag.answer import pipeline

    questions = load_set(set_path or DEFAULT_SET, split)
    default = DEFAULT_THRESHOLDS if s.answerer == "extractive" else LLM_THRESHOLDS
    thresholds = json.loads((thresholds_path or default).read_text())
    p = pipeline.build(s, mode=mode)
    documents = {name: d["text"] for name, d in p.retriever.index.documents.items()}
    answers = [p.ask(q.question, k=k) for q in track(questions, description="evaluating", disable=not progress)]
    dicts = [a.to_dict() for a in answers]
    rows = [score(q, d, documents, k, S.of(d, p.retriever.embed)) for q, d in zip(questions, dicts)]
    result = {
        "set": str(set_path or DEFAULT_SET), "split": split, "mode": mode, "k": k, "generator": p.generator.name,
        "overall": summarise(rows),
        "by_type": {t: summarise([r for r in rows if r["type"] == t]) for t in TYPES if any(r["type"] == t for r in rows)},
        "by_kind": {k: summarise([r for q, r in zip(questions, rows) if q.kind == k]) for k in sorted({q.kind for q in questions} - {""})},
        "latency_ms": _latency(answers),
        "questions": [{**r, "question": q.question, "answer": a.answer, "refused": a.refused,
                       "retrieved": [x["id"] for x in a.passages]} for q, a, r in zip(questions, answers, rows)],
    }
    failures = gate(result["overall"], thresholds, k)  # type: ignore[arg-type]
    result["gate"] = {"passed": not failures, "failures": failures, "thresholds": thresholds}
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "result.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        (out_dir / "report.md").write_text(markdown(result, questions, answers))
    return result


def _holds(passage: str, evidence: str) -> bool:
    norm = " ".join(passage.split()).lower()
    ev = " ".join(evidence.split()).lower()
    return ev in norm or (len(norm) > 40 and norm in ev)


def _latency(answers: list[Answer]) -> dict[str, dict[str, float]]:
    stages = dict.fromkeys(st for a in answers for st in a.timings_ms)
    out = {}
    for st in stages:
        ms = [a.timings_ms[st] for a in answers if st in a.timings_ms]
        out[st] = {"p50": round(float(np.percentile(ms, 50)), 1), "p95": round(float(np.percentile(ms, 95)), 1)}
    return out


# The result as a plain-text table and a Markdown report.

METRICS = ("recall@k", "mrr", "answer_accuracy", "citation_validity", "citation_recall",
           "citation_precision", "citation_on_evidence", "citation_support", "citation_support_precision",
           "refusal_accuracy", "false_refusal_rate")


def _fmt(v: Any) -> str:
    return "—" if v is None else f"{v:.3f}"


def rows(result: dict[str, Any]) -> list[list[str]]:
    """One row per metric: overall, then each question type."""
    types = list(result["by_type"])
    head = ["metric", "overall", *types]
    body = [[m.replace("@k", f"@{result['k']}"), _fmt(result["overall"][m]),
             *(_fmt(result["by_type"][t][m]) for t in types)] for m in METRICS]
    count = ["questions", str(result["overall"]["questions"]), *(str(result["by_type"][t]["questions"]) for t in types)]
    return [head, *body, count]


def table(result: dict[str, Any]) -> str:
    grid = rows(result)
    widths = [max(len(r[i]) for r in grid) for i in range(len(grid[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in grid]
    lat = ", ".join(f"{st} p50 {v['p50']}ms p95 {v['p95']}ms" for st, v in result["latency_ms"].items())
    gate = "passed" if result["gate"]["passed"] else "FAILED"
    return "\n".join([*lines, f"latency: {lat}", f"gate: {gate}"])


def markdown(result: dict[str, Any], questions: list[Any], answers: list[Any]) -> str:
    grid = rows(result)
    md = [f"# Eval report\n\nSet `{result['set']}` (split {result['split']}), retrieval {result['mode']}, "
          f"k={result['k']}, generator {result['generator']}.\n", "## Metrics\n",
          "| " + " | ".join(grid[0]) + " |", "|" + "---|" * len(grid[0])]
    md += ["| " + " | ".join(r) + " |" for r in grid[1:]]
    md += ["\n## Latency (ms)\n", "| stage | p50 | p95 |", "|---|---|---|"]
    md += [f"| {st} | {v['p50']} | {v['p95']} |" for st, v in result["latency_ms"].items()]
    gate = result["gate"]
    md += ["\n## Gate\n", "passed" if gate["passed"] else "FAILED:\n" + "\n".join(f"- {f}" for f in gate["failures"])]
    md += ["\n## Failed questions\n"]
    for q, a, r in zip(questions, answers, result["questions"]):
        wrong = r["answer_accuracy"] is False or r["refusal_accuracy"] is False or (r["recall@k"] or 1) < 1 \
            or (r["citation_recall"] is not None and r["citation_recall"] < 1)
        if not wrong:
            continue
        md += [f"### {q.id} ({q.type}): {q.question}\n", f"- expected: {q.answers or 'a refusal'}",
               f"- answered{' (refused)' if a.refused else ''}: {a.answer}",
               f"- retrieved: {', '.join(p['id'] for p in a.passages)}", f"- gold evidence: {q.evidence}\n"]
    return "\n".join(md) + "\n"
