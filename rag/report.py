"""Eval results as a plain-text table and a Markdown report."""

from __future__ import annotations

from typing import Any

METRICS = ("recall@k", "mrr", "answer_accuracy", "citation_validity", "citation_recall",
           "citation_precision", "citation_on_evidence", "refusal_accuracy", "false_refusal_rate")


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
