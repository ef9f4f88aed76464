"""RealTime QA (news quiz questions, 2022-06-17 to 2022-10-14) asked open-ended through `pipeline.ask`.

    python bench/realtimeqa.py ../shared/benchmarks/realtimeqa [--json] [--limit N | --sample N --seed S] [--llm local]

The ~3,600 Google Custom Search articles collected for the questions (plus the gold
articles) are indexed as paragraphs; every question is asked with no choices shown. Reports
retrieval hit@5/@10 on the gold article (for the questions that have one), EM and F1 of the
short answer (the whole answer where it has none) against the gold choice (SQuAD normalisation), whether the gold answer is contained in the
answer, the refusal rate, and on the "none of the above" file how often a removed choice is
asserted. The authors' baselines are recomputed from their committed predictions.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import statistics
import sys
import time
from pathlib import Path

from common import ROOT, contains, exact_match, f1, figures_table, mean, progress, settings_over, table, write_jsonl

from rag.answer import pipeline

STEM = "20220617-20221014"
BASELINES = {"GPT-3 + Google search": "open_gpt3_gcs", "RAG + Google search": "open_rag_gcs", "GPT-3 + DPR": "open_gpt3_dpr"}


def doc_id(url: str) -> str:
    return "rtqa-" + hashlib.sha1(url.encode()).hexdigest()[:12]


def read_gz_jsonl(folder: Path) -> list[dict]:
    rows = []
    for f in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as h:
            rows += [json.loads(line) for line in h if line.strip()]
    return rows


def corpus(data: Path, out: Path) -> dict[str, str]:
    """Writes the articles as a JSONL corpus (gold text first, one document per URL); question id -> gold doc id."""
    docs: dict[str, dict[str, str]] = {}
    gold: dict[str, str] = {}
    for row in read_gz_jsonl(data / "gold"):
        for r in row["search_result"][:1]:
            gold[row["question_id"]] = doc_id(r["url"])
            docs.setdefault(r["url"], {"id": doc_id(r["url"]), "title": r.get("title") or "", "text": r.get("text") or "",
                                       "url": r["url"], "date": r.get("publish_date") or ""})
    for row in read_gz_jsonl(data / "gcs"):
        for r in row["search_result"]:
            docs.setdefault(r["url"], {"id": doc_id(r["url"]), "title": r.get("title") or "", "text": r.get("text") or "",
                                       "url": r["url"], "date": r.get("publish_date") or ""})
    write_jsonl(out, sorted((d for d in docs.values() if d["text"].strip()), key=lambda d: str(d["id"])))  # same bytes: index stays fresh
    return gold


def baseline(data: Path, key: str, gold: dict[str, str]) -> dict[str, float]:
    path = data / "baseline_results" / f"{STEM}_qa_{key}_gen.jsonl"
    preds = {r["question_id"]: r["prediction"] for r in map(json.loads, path.read_text().splitlines())}
    return {"em": 100 * sum(exact_match(preds.get(q, ""), g) for q, g in gold.items()) / len(gold),
            "f1": 100 * sum(f1(preds.get(q, ""), g) for q, g in gold.items()) / len(gold)}


def _nota_correct(q: dict | None) -> bool:  # type: ignore[type-arg]
    """Whether "None of the above" is this NOTA question's answer: its true answer was removed."""
    return q is not None and q["choices"][int(q["answer"][0])].lower().startswith("none of")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path, help="the realtimeqa folder (qa files, gcs/, gold/, baseline_results/)")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of tables")
    ap.add_argument("--limit", type=int, default=0, help="ask only the first N questions (0: all)")
    ap.add_argument("--sample", type=int, default=0, help="ask N questions drawn with --seed (0: all)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the --sample draw")
    ap.add_argument("--llm", default="extractive", help="who answers: extractive, local or openai (as RAG_LLM)")
    ap.add_argument("--nota-only", action="store_true", help="ask only the questions whose answer the NOTA file removed")
    a = ap.parse_args()
    qa_path = a.data_dir / f"{STEM}_qa.jsonl"
    if not qa_path.is_file() or not (a.data_dir / "gcs").is_dir():
        print(f"error: {a.data_dir} is not the RealTime QA folder ({qa_path.name}, gcs/)", file=sys.stderr)
        return 2
    work = ROOT / "index" / "bench" / "realtimeqa"
    gold_doc = corpus(a.data_dir, work / "corpus.jsonl")
    pipe = pipeline.build(settings_over(work, llm=a.llm), progress=sys.stderr.isatty())
    questions, nota = chosen(a, qa_path)
    t0 = time.perf_counter()
    rows = [asked(pipe, q, gold_doc, nota) for q in progress(questions, "asking")]
    result = summary(rows, time.perf_counter() - t0, pipe)
    golds = {q["question_id"]: q["choices"][int(q["answer"][0])] for q in questions}
    published = {name: baseline(a.data_dir, key, golds) for name, key in BASELINES.items()}
    if a.json:
        print(json.dumps({"dataset": "realtimeqa", "results": result, "baselines": published}))
        return 0
    print(f"RealTime QA: {result['questions']} questions, {result['documents']} articles, {result['paragraphs']} paragraphs")
    print(figures_table(result))
    print()
    print(table([{"system": f"ours ({result['generator']})", "em": result["em"], "f1": result["f1"]}]
                + [{"system": n, **v} for n, v in published.items()], ["system", "em", "f1"]))
    return 0


def chosen(a: argparse.Namespace, qa_path: Path) -> tuple[list[dict], dict[str, dict]]:  # type: ignore[type-arg]
    """The questions to ask, as the options draw them, and the NOTA file's questions by question id."""
    questions = [json.loads(line) for line in qa_path.read_text().splitlines()]
    questions = questions[: a.limit] if a.limit else questions
    if a.sample:
        questions = random.Random(a.seed).sample(questions, min(a.sample, len(questions)))
    nota = {q["question_id"].removesuffix("_nota"): q
            for q in map(json.loads, (a.data_dir / f"{STEM}_qa_nota.jsonl").read_text().splitlines())}
    if a.nota_only:
        questions = [q for q in questions if _nota_correct(nota.get(q["question_id"]))]
    return questions, nota


def asked(pipe: pipeline.Pipeline, q: dict, gold_doc: dict[str, str], nota: dict[str, dict]) -> dict[str, object]:  # type: ignore[type-arg]
    """One question asked open-ended: retrieval of its gold article, the answer against the gold choice, timings."""
    gold, doc = q["choices"][int(q["answer"][0])], gold_doc.get(q["question_id"])
    answer = pipe.ask(q["question_sentence"])
    ranked = [pipe.retriever.index.paragraphs[i].source for i, _ in pipe.retriever.rank(q["question_sentence"])[:10]]
    removed = _nota_correct(nota.get(q["question_id"]))
    text = "" if answer.refused else answer.answer
    said = answer.short_answer.text if answer.short_answer else text  # EM and F1 score the short answer when there is one
    return {"id": q["question_id"], "gold_doc": doc, "hit@5": doc in ranked[:5], "hit@10": doc in ranked[:10],
            "em": exact_match(said, gold), "f1": f1(said, gold), "contains": contains(text, gold),
            "short": answer.short_answer is not None,
            "refused": answer.refused, "nota": removed, "asserted_removed": removed and bool(contains(text, gold)),
            "timings": answer.timings_ms}


def summary(rows: list[dict], seconds: float, pipe: pipeline.Pipeline) -> dict[str, object]:  # type: ignore[type-arg]
    """The figures over all asked questions; hit@k over those with a gold article, NOTA over the NOTA ones."""
    with_gold = [r for r in rows if r["gold_doc"]]
    nota_rows = [r for r in rows if r["nota"]]
    timings = [r["timings"] for r in rows]
    return {
        "questions": len(rows), "with_gold_article": len(with_gold),
        "hit@5": mean(with_gold, "hit@5"), "hit@10": mean(with_gold, "hit@10"),
        "em": 100 * mean(rows, "em"), "f1": 100 * mean(rows, "f1"), "contains": 100 * mean(rows, "contains"),
        "short_answers": mean(rows, "short"), "refusal_rate": mean(rows, "refused"),
        "nota_questions": len(nota_rows), "nota_asserted_removed": mean(nota_rows, "asserted_removed"),
        "nota_refused": mean(nota_rows, "refused"), "seconds_per_question": seconds / max(1, len(rows)),
        "paragraphs": len(pipe.retriever.index.paragraphs), "documents": len(pipe.retriever.index.documents),
        "generator": pipe.generator.name,
        "ms_p50": {st: statistics.median(t[st] for t in timings if st in t) for st in dict.fromkeys(k for t in timings for k in t)},
    }


if __name__ == "__main__":
    sys.exit(main())
