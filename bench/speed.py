"""Indexing and query speed, ours against LlamaIndex and against the embedding model alone.

    python bench/speed.py [--corpus PATH] [--queries FILE] [--docs N] [--json]

Default corpus: the first 1,000 SciFact abstracts in ../shared/benchmarks/scifact-beir (--docs 0: all), split into the
paragraphs `rag index` makes (title embedded with each). All three embed exactly those texts
with the same bundled model and batch size, in one process, the model loaded once:
- ours: `index.build` cold into an empty folder (parse, embed, FAISS, BM25, write, checksums);
  query latency of retrieval alone (`Retriever.search`, as /search) and of the offline `ask`;
- LlamaIndex: a VectorStoreIndex over the same texts as nodes, its HuggingFaceEmbedding on the
  same model folder, the default in-memory vector store; query latency of `retriever.retrieve`;
- the limit: `model.encode` of the texts alone. encode_efficiency = raw encode time / our build
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
from pathlib import Path

import numpy as np
from common import ROOT, table, write_jsonl

from rag import corpus as C
from rag import embed, index, retrieve
from rag.config import Settings
from rag.extractive import Extractive
from rag.pipeline import Pipeline
from rag.retrieve import Retriever

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
    try:
        import llama_index.core  # noqa: F401
    except ImportError:
        print("error: LlamaIndex is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    if not a.corpus.exists():
        print(f"error: corpus {a.corpus} not found: pass --corpus", file=sys.stderr)
        return 2
    qpath = a.queries or (a.corpus / "queries.jsonl" if a.corpus.is_dir() else None)
    if qpath is None or not qpath.is_file():
        print("error: no questions: pass --queries FILE", file=sys.stderr)
        return 2
    questions = [r.get("text") or r.get("question") for r in map(json.loads, qpath.read_text().splitlines()) if r]
    questions = [q for q in questions if q][: a.questions]

    with tempfile.TemporaryDirectory(prefix="rag-speed-") as tmp:
        source = a.corpus
        if a.docs:
            docs = C.read(a.corpus).documents[: a.docs]
            source = Path(tmp) / "corpus.jsonl"
            write_jsonl(source, ({"id": d.name, "title": d.title, "text": d.text} for d in docs))
        corpus = C.read(source)
        texts = [C.embed_input(d, p) for d in corpus.documents for p in d.paragraphs]
        embedder = embed.load("")
        embedder.encode(["warm up"])

        t0 = time.perf_counter()
        report = index.build(source, Path(tmp) / "index", embedder, "auto")
        ours_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        embedder.model.encode(texts, batch_size=embed.BATCH, normalize_embeddings=True, convert_to_numpy=True)
        raw_encode = time.perf_counter() - t0
        llama, llama_build = llamaindex_build(texts, embed.bundled_model_path(), embed.BATCH)

        ix = index.load(Path(tmp) / "index", embedder.name, embedder.dim)
        retriever = Retriever(ix, embed.Cached(embedder))
        documents = {name: d["text"] for name, d in ix.documents.items()}
        pipe = Pipeline(retriever, Extractive(retriever.embed, retrieve.idf(ix), documents), None, Settings())
        llama_retriever = llama.as_retriever(similarity_top_k=K)
        ours_q, ours_ask, llama_q = [], [], []
        for q in questions:  # alternating, each question new to every cache
            t = time.perf_counter()
            llama_retriever.retrieve(q)
            llama_q.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            retriever.search(q, K)
            ours_q.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            pipe.ask(q)
            ours_ask.append((time.perf_counter() - t) * 1000)

    result = {
        "ours": {"build_s": round(ours_build, 2), "query_p50_ms": pct(ours_q, 50), "query_p95_ms": pct(ours_q, 95),
                 "ask_p50_ms": pct(ours_ask, 50), "ask_p95_ms": pct(ours_ask, 95)},
        "llamaindex": {"build_s": round(llama_build, 2), "query_p50_ms": pct(llama_q, 50), "query_p95_ms": pct(llama_q, 95)},
        "encode_efficiency": round(raw_encode / ours_build, 3),
        "raw_encode_s": round(raw_encode, 2), "paragraphs": report.paragraphs, "documents": report.documents,
        "questions": len(questions),
    }
    if a.json:
        print(json.dumps(result))
        return 0
    n = report.paragraphs
    print(f"{n} paragraphs from {report.documents} documents, {len(questions)} questions, top-{K}")
    print(table([
        {"system": "ours", "build s": ours_build, "paragraphs/s": n / ours_build, "query p50 ms": pct(ours_q, 50),
         "query p95 ms": pct(ours_q, 95), "ask p50 ms": pct(ours_ask, 50)},
        {"system": "LlamaIndex", "build s": llama_build, "paragraphs/s": n / llama_build,
         "query p50 ms": pct(llama_q, 50), "query p95 ms": pct(llama_q, 95)},
        {"system": "model.encode alone", "build s": raw_encode, "paragraphs/s": n / raw_encode},
    ], ["system", "build s", "paragraphs/s", "query p50 ms", "query p95 ms", "ask p50 ms"]))
    print(f"encode_efficiency {result['encode_efficiency']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
