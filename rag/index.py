"""Build, save and load the index: FAISS + BM25 + manifest.json, incremental by paragraph hash.

Layout of the index folder:

    index/CURRENT               the name of the live build, swapped atomically
    index/build-<stamp>/        manifest.json, paragraphs.jsonl, documents.jsonl, dropped.jsonl,
                                embeddings.npy, faiss.index, bm25/ (plain bm25s files)
    index/.lock                 held while a build runs

A build writes a new folder and only then points CURRENT at it, so a crash at any moment
leaves the previous index loadable.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag import corpus as C
from rag import text as T
from rag.embed import Embedder
from rag.errors import IndexError_, IndexLockedError

FORMAT = 1
CLEANING = 3  # bump when corpus cleaning changes, so old indexes count as stale
# `auto` switches from exact search to IVF above this many paragraphs. Measured by bench/scale.py
# (BENCHMARKS.md): at 100k flat takes 23 ms a query, IVF 0.4 ms at recall@10 1.0; at 1M flat takes
# 363 ms, IVF 1.0 ms at recall 1.0 and builds in 43 s, HNSW 0.7 ms at recall 0.88 after 290 s.
APPROXIMATE_ABOVE = 100_000
KINDS = ("flat", "hnsw", "ivf", "auto")
IVF_NPROBE = 16


@dataclass
class Index:
    path: Path
    manifest: dict[str, Any]
    paragraphs: list[C.Paragraph]
    documents: dict[str, dict[str, str]]  # name -> {"title", "text"}
    vectors: np.ndarray
    faiss: Any
    bm25: Any

    def document_text(self, name: str) -> str:
        return self.documents[name]["text"]


@dataclass(frozen=True)
class BuildReport:
    paragraphs: int
    embedded: int
    reused: int
    documents: int
    dropped: list[C.Dropped]
    problems: list[str]
    seconds: float
    path: Path


def fingerprint(folder: Path) -> dict[str, str]:
    """sha256 of every corpus file's bytes, skipped files included, by relative name."""
    files = C.source_files(folder)
    if files:
        return {f.name: _sha256(f) for f in files}
    out = {}
    for path, problem in C.walk(folder):
        name = path.relative_to(folder).as_posix()
        try:
            out[name] = problem or hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as e:
            out[name] = f"unreadable: {e.strerror}"
    return out


def status(corpus_dir: Path, index_dir: Path, model: str) -> str:
    """'missing', 'stale' (corpus, model or cleaning changed) or 'fresh'."""
    manifest = _read_manifest(index_dir)
    if manifest is None:
        return "missing"
    same = (
        manifest.get("model") == model
        and manifest.get("cleaning") == CLEANING
        and manifest.get("corpus_dir") == str(corpus_dir.resolve())
        and manifest.get("files") == fingerprint(corpus_dir)
    )
    return "fresh" if same else "stale"


def build(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    kind: str = "auto",
    progress: bool = False,
    on_wait: Callable[[], None] | None = None,
) -> BuildReport:
    """Index `corpus_dir` into `index_dir`, embedding only paragraphs not embedded before."""
    t0 = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    with _lock(index_dir, on_wait):
        files = fingerprint(corpus_dir)
        corpus = C.read(corpus_dir)
        paragraphs = corpus.paragraphs
        texts = [C.embed_input(d, p) for d in corpus.documents for p in d.paragraphs]
        cache = _previous_vectors(index_dir, embedder)
        keys = [_text_key(t) for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in cache]
        fresh = embedder.encode([texts[i] for i in todo], progress=progress)
        vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
        for row, i in enumerate(todo):
            vectors[i] = fresh[row]
        for i, k in enumerate(keys):
            if k in cache:
                vectors[i] = cache[k]
        chosen = _kind(kind, len(paragraphs))
        manifest = {
            "format": FORMAT,
            "cleaning": CLEANING,
            "model": embedder.name,
            "dim": embedder.dim,
            "kind": chosen,
            "paragraphs": len(paragraphs),
            "documents": len(corpus.documents),
            "corpus_dir": str(corpus_dir.resolve()),
            "files": files,
            "problems": corpus.problems,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "versions": _versions(),
        }
        path = _write(index_dir, corpus, vectors, manifest)
    dropped = [d for doc in corpus.documents for d in doc.dropped]
    return BuildReport(
        len(paragraphs), len(todo), len(texts) - len(todo), len(corpus.documents), dropped,
        corpus.problems, time.perf_counter() - t0, path,
    )


def load(index_dir: Path, model: str | None = None, dim: int | None = None) -> Index:
    """Load the live build, refusing a corrupt or mismatched one with a message."""
    import bm25s

    manifest = _read_manifest(index_dir)
    if manifest is None:
        raise IndexError_(f"no index in {index_dir}: run `rag index` to build it")
    path = index_dir / (index_dir / "CURRENT").read_text().strip()
    if manifest.get("format") != FORMAT:
        raise IndexError_(f"the index in {index_dir} has an old format: run `rag index` to rebuild it")
    if model and (manifest.get("model") != model or (dim and manifest.get("dim") != dim)):
        raise IndexError_(
            f"the index in {index_dir} was built with {manifest.get('model')} ({manifest.get('dim')}-d), "
            f"not {model} ({dim}-d): run `rag index` to rebuild it"
        )
    for rel, digest in manifest["checksums"].items():
        f = path / rel
        if not f.is_file() or _sha256(f) != digest:
            raise IndexError_(f"the index in {index_dir} is corrupt ({rel} is damaged): run `rag index` to rebuild it")
    try:
        paragraphs = [C.Paragraph(**json.loads(line)) for line in _lines(path / "paragraphs.jsonl")]
        documents = {d["name"]: d for d in map(json.loads, _lines(path / "documents.jsonl"))}
        vectors = np.load(path / "embeddings.npy", mmap_mode="r")
        index = _read_faiss(path / "faiss.index")
        bm25 = bm25s.BM25.load(str(path / "bm25"), load_vocab=True, show_progress=False) if paragraphs else None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        raise IndexError_(f"the index in {index_dir} cannot be read ({e}): run `rag index` to rebuild it") from e
    if index.ntotal != len(paragraphs) or vectors.shape[0] != len(paragraphs):
        raise IndexError_(f"the index in {index_dir} is inconsistent: run `rag index` to rebuild it")
    return Index(path, manifest, paragraphs, documents, vectors, index, bm25)


def _read_faiss(path: Path) -> Any:
    """The FAISS index, memory-mapped where FAISS allows (its vectors stay on disk until searched)."""
    import faiss

    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        index = faiss.read_index(str(path))
    if hasattr(index, "nprobe"):
        index.nprobe = IVF_NPROBE
    return index


def _kind(kind: str, n: int) -> str:
    if kind not in KINDS:
        raise IndexError_(f"unknown index kind {kind!r}: choose one of {', '.join(KINDS)}")
    chosen = ("ivf" if n > APPROXIMATE_ABOVE else "flat") if kind == "auto" else kind
    return "flat" if chosen == "ivf" and n < 1000 else chosen  # too few vectors to train IVF cells on


def faiss_index(vectors: np.ndarray, kind: str) -> Any:
    """An inner-product FAISS index over unit vectors: exact (flat) or approximate (HNSW, IVF)."""
    import faiss

    dim = vectors.shape[1]
    index: Any
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    elif kind == "ivf" and len(vectors) >= 1000:  # nlist = 4√n cells, trained on up to 40 points a cell
        nlist = int(4 * np.sqrt(len(vectors)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)
        index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
        index.nprobe = IVF_NPROBE
    else:  # flat, or too few vectors to train cells on
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def bm25_index(texts: list[str]) -> Any:
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index([T.stems(t) or ["_"] for t in texts], show_progress=False)
    return bm25


def _write(index_dir: Path, corpus: C.Corpus, vectors: np.ndarray, manifest: dict[str, Any]) -> Path:
    import faiss

    name = f"build-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    paragraphs = corpus.paragraphs
    _write_lines(tmp / "paragraphs.jsonl", (asdict(p) for p in paragraphs))
    _write_lines(
        tmp / "documents.jsonl", ({"name": d.name, "title": d.title, "text": d.text, **d.meta} for d in corpus.documents)
    )
    _write_lines(tmp / "dropped.jsonl", (asdict(x) for doc in corpus.documents for x in doc.dropped))
    np.save(tmp / "embeddings.npy", vectors)
    faiss.write_index(faiss_index(vectors, manifest["kind"]), str(tmp / "faiss.index"))
    if paragraphs:
        bm25_index([C.embed_input(d, p) for d in corpus.documents for p in d.paragraphs]).save(str(tmp / "bm25"), show_progress=False)
    manifest["checksums"] = {
        f.relative_to(tmp).as_posix(): _sha256(f) for f in sorted(tmp.rglob("*")) if f.is_file()
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    _fsync_tree(tmp)
    tmp.rename(index_dir / name)
    pointer = index_dir / f".CURRENT.{uuid.uuid4().hex[:8]}"
    pointer.write_text(name + "\n")
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    for old in index_dir.iterdir():
        if old.name != name and (old.name.startswith("build-") or old.name.startswith(".tmp-")):
            shutil.rmtree(old, ignore_errors=True)
    return index_dir / name


def _previous_vectors(index_dir: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the live build by text hash, when it used the same model; else nothing."""
    try:
        old = load(index_dir, embedder.name, embedder.dim)
    except (IndexError_, OSError):
        return {}
    return {_text_key(p.text): old.vectors[i] for i, p in enumerate(old.paragraphs)}


def _read_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        name = (index_dir / "CURRENT").read_text().strip()
        return dict(json.loads((index_dir / name / "manifest.json").read_text()))
    except (OSError, ValueError):
        return None


@contextmanager
def _lock(index_dir: Path, on_wait: Callable[[], None] | None) -> Iterator[None]:
    with open(index_dir / ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is None:
                raise IndexLockedError(f"another `rag index` is building {index_dir}: wait for it to finish") from None
            on_wait()
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        yield from (line for line in f if line.strip())


def _write_lines(path: Path, rows: Iterator[dict[str, Any]] | Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _fsync_tree(folder: Path) -> None:
    for f in folder.rglob("*"):
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("rag", "sentence-transformers", "faiss-cpu", "bm25s", "numpy", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
