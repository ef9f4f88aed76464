"""FAISS flat, HNSW and IVF, and BM25, on synthetic corpora of 10k, 100k and 1M paragraphs.

    python bench/scale.py [--sizes 10000 100000 1000000] [--serve] [--json] [--store faiss|milvus]

Vectors are 384-d and unit length, drawn around 2,000 random centres (real embeddings are
clustered; uniform noise would be the worst case for approximate search). Text is drawn from
a Zipf-distributed 50,000-word vocabulary, 60 words a paragraph. Per size and index kind:
build time, memory of the index, single-query p50 over 200 queries, and recall@10 against the
exact (flat) answer. BM25: build and query time. With --serve, a product index of that size is
written and a real `rag serve` loads it: its resident memory after the first /search.
Seed 0 throughout. With --store milvus the same vectors and texts go into a Milvus Lite collection
(the store `RAG_STORE=milvus` uses): insert time, dense and hybrid (dense + BM25, RRF) query p50
and p95, recall@10 of dense search against exact FAISS search, and the resident memory of this
process and its children after loading.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, table

from rag import index
from rag import text as T
from rag.index import builds, store
from rag.ingest import corpus as C

DIM, CENTRES, QUERIES, WORDS, VOCAB = 384, 2000, 200, 60, 50_000


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CENTRES, DIM)).astype(np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, 100_000):
        e = min(n, s + 100_000)
        out[s:e] = centres[rng.integers(0, CENTRES, e - s)] + 0.6 * rng.standard_normal((e - s, DIM)).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(VOCAB)])
    ranks = np.minimum(rng.zipf(1.2, n * WORDS), VOCAB) - 1
    words = vocab[ranks].reshape(n, WORDS)
    return [" ".join(row) for row in words]


def timed_queries(idx, queries: np.ndarray, k: int = 10) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    lat, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = idx.search(q.reshape(1, -1), k)
        lat.append((time.perf_counter() - t) * 1000)
        found.append(ids[0])
    return float(np.percentile(lat, 50)), np.array(found)


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)]))


def faiss_kinds(vecs: np.ndarray, queries: np.ndarray) -> list[dict[str, object]]:
    import faiss

    n = len(vecs)
    rows = []
    t = time.perf_counter()
    flat = store.faiss_index(vecs, "flat")
    build = time.perf_counter() - t
    p50, exact = timed_queries(flat, queries)
    rows.append({"kind": "flat", "build_s": build, "memory_mb": n * DIM * 4 / 2**20, "query_p50_ms": p50, "recall@10": 1.0})
    del flat
    t = time.perf_counter()
    hnsw = store.faiss_index(vecs, "hnsw")
    build = time.perf_counter() - t
    p50, found = timed_queries(hnsw, queries)
    mem = faiss.serialize_index(hnsw).nbytes / 2**20
    rows.append({"kind": "hnsw", "build_s": build, "memory_mb": mem, "query_p50_ms": p50, "recall@10": recall(found, exact)})
    del hnsw
    nlist = int(4 * np.sqrt(n))
    t = time.perf_counter()
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = vecs[np.random.default_rng(1).choice(n, min(n, 40 * nlist), replace=False)]
    ivf.train(sample)
    ivf.add(vecs)
    ivf.nprobe = 16
    build = time.perf_counter() - t
    p50, found = timed_queries(ivf, queries)
    mem = faiss.serialize_index(ivf).nbytes / 2**20
    rows.append({"kind": f"ivf{nlist},nprobe16", "build_s": build, "memory_mb": mem, "query_p50_ms": p50,
                 "recall@10": recall(found, exact)})
    return rows


def milvus_rows(vecs: np.ndarray, docs: list[str], queries: np.ndarray) -> list[dict[str, object]]:
    """The same paragraphs in a Milvus Lite collection: insert, dense and hybrid queries, recall, memory.

    A query that runs past the store's timeout is counted, not timed: the product would answer it with a 502.
    """
    from rag.errors import StoreError
    from rag.index.store.milvus import Milvus

    exact = store.faiss_index(vecs, "flat").search(np.ascontiguousarray(queries, dtype=np.float32), 10)[1]
    keys = [f"k{i}" for i in range(len(vecs))]
    with tempfile.TemporaryDirectory(prefix="rag-milvus-") as tmp:
        m = Milvus(str(Path(tmp) / "m.db"), "scale", DIM, keys)
        t = time.perf_counter()
        m.add(keys, docs, vecs)
        m.seal()  # as a build does: searches then use the sealed segments
        build = time.perf_counter() - t
        print(f"{len(vecs):,} paragraphs inserted and sealed in {build:.1f} s", file=sys.stderr, flush=True)
        times: dict[str, list[float]] = {"dense": [], "hybrid": []}
        timeouts = {"dense": 0, "hybrid": 0}
        found = []
        for q, d in zip(queries, np.random.default_rng(2).integers(0, len(docs), len(queries))):
            words = " ".join(docs[d].split()[:6])
            for kind, call, args in (("dense", m.dense, (q, 10)), ("hybrid", m.fused, (q, words, 10))):
                t = time.perf_counter()
                try:
                    result = call(*args)  # type: ignore[operator]
                except StoreError:
                    timeouts[kind] += 1
                    continue
                times[kind].append((time.perf_counter() - t) * 1000)
                if kind == "dense":
                    found.append(result)
        rss = _rss_mb()
    dense_recall = recall(np.array(found), exact) if len(found) == len(queries) else None  # only over every query
    return [{"kind": "milvus dense", "build_s": build, **_percentiles(times["dense"]), "timeouts": timeouts["dense"],
             "recall@10": dense_recall, "rss_mb": rss},
            {"kind": "milvus hybrid", **_percentiles(times["hybrid"]), "timeouts": timeouts["hybrid"]}]


def _percentiles(ms: list[float]) -> dict[str, float | None]:
    if not ms:
        return {"query_p50_ms": None, "query_p95_ms": None}
    return {"query_p50_ms": float(np.percentile(ms, 50)), "query_p95_ms": float(np.percentile(ms, 95))}


def _rss_mb() -> float:
    """Resident memory of this process and its children, in MB."""
    pids = [os.getpid(), *(int(p) for p in Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split())]
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        total += int(next(line for line in status if line.startswith("VmRSS")).split()[1])
    return total / 1024


def bm25_row(docs: list[str]) -> dict[str, object]:
    t = time.perf_counter()
    bm25 = store.Postings.of(store.bm25_index(docs))
    build = time.perf_counter() - t
    rng = np.random.default_rng(2)
    lat = []
    for i in rng.integers(0, len(docs), QUERIES):
        q = T.stems(" ".join(docs[i].split()[:6]))
        t = time.perf_counter()
        bm25.top(q, 50)
        lat.append((time.perf_counter() - t) * 1000)
    return {"kind": "bm25", "build_s": build, "query_p50_ms": float(np.percentile(lat, 50))}


def serve_rss(vecs: np.ndarray, docs: list[str], kind: str) -> float:
    """Resident MB of a real `rag serve` over a product index of these paragraphs, after one /search."""
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
        folder = Path(tmp) / "index"
        folder.mkdir()
        text = "\n\n".join(docs)
        spans, pos = [], 0
        for d in docs:
            spans.append((pos, pos + len(d)))
            pos += len(d) + 2
        paras = tuple(C.Paragraph(f"synthetic#p{i}", "synthetic", "", s, e, d) for i, ((s, e), d) in enumerate(zip(spans, docs), 1))
        corpus = C.Corpus([C.Document("synthetic", "", text, paras, (), {}, True)])
        manifest = {"format": index.FORMAT, "cleaning": index.CLEANING, "tokens": T.TOKENS, "model": "all-MiniLM-L6-v2", "dim": DIM, "store": {"name": "faiss"},
                    "kind": kind, "paragraphs": len(docs), "documents": 1, "corpus_dir": "", "files": {}}
        builds.write(folder, corpus, docs, vecs, manifest)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "RAG_INDEX_DIR": str(folder), "RAG_AUTO_INDEX": "0", "RAG_CORPUS_DIR": tmp}
        proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        try:
            import httpx

            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                try:
                    if httpx.post(f"http://127.0.0.1:{port}/search", json={"question": "w1 w2 w3"}, timeout=60).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(1)
            rss = int(next(line for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                           if line.startswith("VmRSS")).split()[1])
            return rss / 1024
        finally:
            proc.terminate()
            proc.wait(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--serve", action="store_true", help="also measure the resident memory of rag serve at each size")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    ap.add_argument("--store", default="faiss", choices=store.STORES, help="faiss: FAISS kinds and BM25; milvus: Milvus Lite")
    ap.add_argument("--queries", type=int, default=QUERIES, help="queries per size (fewer for a slow store)")
    a = ap.parse_args()
    out: dict[str, list[dict[str, object]]] = {}
    for n in a.sizes:
        vecs = vectors(n)
        queries = vecs[np.random.default_rng(3).choice(n, a.queries, replace=False)] + 0.05 * np.random.default_rng(4).standard_normal((a.queries, DIM)).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        docs = texts(n)
        if a.store == "milvus":
            rows = milvus_rows(vecs, docs, queries)
        else:
            rows = faiss_kinds(vecs, queries)
            rows.append(bm25_row(docs))
        if a.serve:
            for kind in ("flat", "hnsw"):
                rows.append({"kind": f"rag serve ({kind})", "rss_mb": serve_rss(vecs, docs, kind)})
        out[str(n)] = [{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in rows]
        if not a.json:
            print(f"\n{n:,} paragraphs")
            print(table(out[str(n)], ["kind", "build_s", "memory_mb", "query_p50_ms", "query_p95_ms", "timeouts", "recall@10", "rss_mb"]),
                  flush=True)
    if a.json:
        print(json.dumps({"sizes": out, "auto_ivf_above": store.APPROXIMATE_ABOVE}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
