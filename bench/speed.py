"""Indexing and query speed, ours against LlamaIndex and against the embedding model alone.

    python bench/speed.py [--corpus PATH] [--queries FILE] [--docs N] [--json]

Default corpus: the first 1,000 SciFact abstracts in ../shared/benchmarks/scifact-beir (--docs 0: all), split into the
paragraphs `rag index` makes (title embedded with each). All three embed exactly those texts
with the same bundled model, in one process, the model loaded once (ours at RAG_EMBED_PRECISION, int8 by default):
- ours: `index.build` cold into an empty folder (parse, embed, FAISS, BM25, write, checksums);
  query latency of retrieval alone (`Retriever.search`, as /search) and of the offline `ask`;
- LlamaIndex: a VectorStoreIndex over the same texts as nodes, its HuggingFaceEmbedding on the
  same model folder, the default in-memory vector store; query latency of `retriever.retrieve`;
- the limit: the build's encoder alone over the texts (`encode_passages`, ONNX Runtime, as in the build). encode_efficiency = raw encode time / our build
  time (our paragraphs/s over raw paragraphs/s).
Query latencies alternate between the two systems question by question.
Needs the bench extra: pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, table, write_jsonl

from rag import index
from rag.answer import retrieve
from rag.answer.extractive import Extractive
from rag.answer.pipeline import Pipeline
from rag.answer.retrieve import Retriever
from rag.config import get_settings
from rag.index import embed
from rag.ingest import corpus as C
from rag.ingest import readers

DEFAULT = ROOT.parent / "shared" / "benchmarks" / "scifact-beir"
K = 5


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def llamaindex_build(texts: list[str], model_path: Path, batch: int):  # type: ignore[no-untyped-def]
    from llama_index.core import Settings as LSettings
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    LSettings.llm = None
    model = HuggingFaceEmbedding(model_name=str(model_path), embed_batch_size=batch, device="cpu")
    nodes = [TextNode(text=t, id_=str(i)) for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    idx = VectorStoreIndex(nodes, embed_model=model)
    return idx, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT, help="a corpus `rag index` accepts (default: SciFact abstracts)")
    ap.add_argument("--queries", type=Path, help="JSONL with `text` or `question` per line (default: the corpus's queries.jsonl)")
    ap.add_argument("--docs", type=int, default=1000, help="use only the first N documents (0: all; all of SciFact takes ~25 min)")
    ap.add_argument("--questions", type=int, default=300, help="how many questions to time (at least 200 for the goal)")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    a = ap.parse_args()
    logging.disable(logging.WARNING)
    questions = checked(a)
    if isinstance(questions, str):
        print(f"error: {questions}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="rag-speed-") as tmp:
        source = a.corpus
        if a.docs:
            source = Path(tmp) / "corpus.jsonl"
            write_jsonl(source, ({"id": d.name, "title": d.title, "text": d.text} for d in readers.read(a.corpus).documents[: a.docs]))
        result = timed(source, Path(tmp) / "index", questions)
    if a.json:
        print(json.dumps(result))
        return 0
    ours, llama, n = result["ours"], result["llamaindex"], result["paragraphs"]
    print(f"{n} paragraphs from {result['documents']} documents, {len(questions)} questions, top-{K}")
    print(table([
        {"system": "ours", "build s": ours["build_s"], "paragraphs/s": n / ours["build_s"], "query p50 ms": ours["query_p50_ms"],
         "query p95 ms": ours["query_p95_ms"], "ask p50 ms": ours["ask_p50_ms"]},
        {"system": "LlamaIndex", "build s": llama["build_s"], "paragraphs/s": n / llama["build_s"],
         "query p50 ms": llama["query_p50_ms"], "query p95 ms": llama["query_p95_ms"]},
        {"system": "model.encode alone", "build s": result["raw_encode_s"], "paragraphs/s": n / result["raw_encode_s"]},
    ], ["system", "build s", "paragraphs/s", "query p50 ms", "query p95 ms", "ask p50 ms"]))
    print(f"encode_efficiency {result['encode_efficiency']:.3f}")
    return 0


def checked(a: argparse.Namespace) -> list[str] | str:
    """The questions to time, or what is missing to time them."""
    try:
        import llama_index.core  # noqa: F401
    except ImportError:
        return "LlamaIndex is not installed: pip install -e '.[bench]'"
    if not a.corpus.exists():
        return f"corpus {a.corpus} not found: pass --corpus"
    qpath = a.queries or (a.corpus / "queries.jsonl" if a.corpus.is_dir() else None)
    if qpath is None or not qpath.is_file():
        return "no questions: pass --queries FILE"
    questions = [r.get("text") or r.get("question") for r in map(json.loads, qpath.read_text().splitlines()) if r]
    return [q for q in questions if q][: a.questions]


def timed(source: Path, folder: Path, questions: list[str]) -> dict[str, Any]:
    """Both systems built over `source` (ours into `folder`), the encoder alone, then both asked `questions`."""
    corpus = readers.read(source)
    texts = [C.embed_input(d, p) for d in corpus.documents for p in d.paragraphs]
    embedder = embed.load("", get_settings().embed_precision)  # the product's own: int8 paragraphs, fp32 questions
    embedder.encode(["warm up"])
    t0 = time.perf_counter()
    report = index.build(source, folder, embedder, "auto")
    ours_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    embedder.encode_passages(texts)  # the build's encoder alone: no parsing, cache, store or files
    raw_encode = time.perf_counter() - t0
    llama, llama_build = llamaindex_build(texts, embed.bundled_model_path(), embed.BATCH)
    ix = index.load(folder, embedder.name, embedder.dim)
    retriever = Retriever(ix, embed.Cached(embedder))
    documents = {name: d["text"] for name, d in ix.documents.items()}
    pipe = Pipeline(retriever, Extractive(retriever.embed, retrieve.idf(ix), documents), None, get_settings())
    llama_q, ours_q, ours_ask = latencies(questions, llama.as_retriever(similarity_top_k=K).retrieve,
                                          lambda q: retriever.search(q, K), pipe.ask)
    return {
        "ours": {"build_s": round(ours_build, 2), "query_p50_ms": pct(ours_q, 50), "query_p95_ms": pct(ours_q, 95),
                 "ask_p50_ms": pct(ours_ask, 50), "ask_p95_ms": pct(ours_ask, 95)},
        "llamaindex": {"build_s": round(llama_build, 2), "query_p50_ms": pct(llama_q, 50), "query_p95_ms": pct(llama_q, 95)},
        "encode_efficiency": round(raw_encode / ours_build, 3),
        "raw_encode_s": round(raw_encode, 2), "paragraphs": report.paragraphs, "documents": report.documents,
        "questions": len(questions),
    }


def latencies(questions: list[str], *calls: Callable[[str], object]) -> list[list[float]]:
    """Milliseconds each call takes on each question; the calls alternate, so every question is new to every cache."""
    out: list[list[float]] = [[] for _ in calls]
    for q in questions:
        for call, times in zip(calls, out):
            t = time.perf_counter()
            call(q)
            times.append((time.perf_counter() - t) * 1000)
    return out


if __name__ == "__main__":
    sys.exit(main())
