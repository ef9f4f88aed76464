"""Build, save and load the index: FAISS + BM25 + manifest.json, incremental by paragraph hash.

A build folder (`rag.index.builds` writes it and makes it live) holds manifest.json, paragraphs.jsonl,
metadata.jsonl, documents.jsonl, dropped.jsonl, embeddings.npy, keys.txt, faiss.index and bm25/
(plain bm25s files); a Milvus store keeps its own indexes in its collection instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag import text as T
from rag.errors import CorpusError, IndexError_
from rag.index import builds, store
from rag.index.embed import Embedder
from rag.index.store import Postings, Where
from rag.ingest import corpus as C
from rag.ingest import files, readers

FORMAT = 2  # 2: metadata.jsonl
CLEANING = 6  # bump when corpus cleaning changes, so old indexes count as stale (6: long paragraphs cut after closing quotes)


@dataclass
class Index:
    path: Path
    manifest: dict[str, Any]
    paragraphs: list[C.Paragraph]  # searched: row i of `vectors`, `faiss` and `bm25`
    documents: dict[str, dict[str, str]]  # name -> {"title", "text", "date"?, "url"?}
    vectors: np.ndarray
    store: Any  # a store.Store: faiss.Local, or milvus.Milvus
    bm25: Postings | None  # the build's bm25s postings, also for word weights (idf); None for a Milvus store
    metadata: list[C.Paragraph] = field(default_factory=list)  # title and author lines: cited, not searched

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in [*self.paragraphs, *self.metadata]}
        self.meta_of = {(p.source, p.kind): p for p in self.metadata}
        self.by_source: dict[str, list[C.Paragraph]] = {}
        for p in self.paragraphs:
            self.by_source.setdefault(p.source, []).append(p)


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


@dataclass(frozen=True)
class Listing:
    """The corpus files and their hashes, taken once and used for both the staleness check and the build."""

    files: list[tuple[Path, str]]  # a folder's files with their problems; empty for a JSONL corpus
    hashes: dict[str, str]  # sha256 of every file's bytes (or why it was skipped), by relative name


def list_corpus(corpus_dir: Path) -> Listing:
    """The files of `corpus_dir`, each hashed."""
    jsonl = readers.jsonl_file(corpus_dir)
    if jsonl:
        return Listing([], {jsonl.name: files.sha256(jsonl)})
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: pass --corpus DIR or set RAG_CORPUS_DIR")
    found = readers.listing(corpus_dir)
    hashes = {}
    for path, problem in found:
        try:
            hashes[path.relative_to(corpus_dir).as_posix()] = problem or files.sha256(path)
        except OSError as e:
            hashes[path.relative_to(corpus_dir).as_posix()] = f"unreadable: {e.strerror}"
    return Listing(found, hashes)


def status(corpus_dir: Path, index_dir: Path, model: str, listing: Listing | None = None,
           where: Where | None = None) -> str:
    """'missing', 'stale' (corpus, model, cleaning, word tokens or store changed) or 'fresh'."""
    manifest = builds.read_manifest(index_dir)
    if manifest is None:
        return "missing"
    same = (
        manifest.get("model") == model
        and manifest.get("store", {}).get("name", "faiss") == (where or Where()).name
        and manifest.get("cleaning") == CLEANING
        and manifest.get("tokens", 1) == T.TOKENS
        and manifest.get("corpus_dir") == str(corpus_dir.resolve())
        and manifest.get("files") == (listing or list_corpus(corpus_dir)).hashes
    )
    return "fresh" if same else "stale"


def open(corpus_dir: Path, index_dir: Path, embedder: Embedder, kind: str = "auto", auto: bool = True,
         progress: bool = False, where: Where | None = None) -> Index:
    """The index of `corpus_dir`, built first when missing, stale or corrupt (unless `auto` is off)."""
    where = where or Where()
    listing = list_corpus(corpus_dir) if auto else None
    if listing is not None and status(corpus_dir, index_dir, embedder.name, listing, where) != "fresh":
        build(corpus_dir, index_dir, embedder, kind, progress, lambda: None, listing, where)
    try:
        return load(index_dir, embedder.name, embedder.dim, where)
    except IndexError_:
        if listing is None:
            raise
        build(corpus_dir, index_dir, embedder, kind, progress, lambda: None, listing, where)
        return load(index_dir, embedder.name, embedder.dim, where)


def build(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    kind: str = "auto",
    progress: bool = False,
    on_wait: Callable[[], None] | None = None,
    listing: Listing | None = None,
    where: Where | None = None,
) -> BuildReport:
    """Index `corpus_dir` into `index_dir`, embedding only paragraphs not embedded before."""
    t0 = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    with builds.lock(index_dir, on_wait):
        listing = listing or list_corpus(corpus_dir)
        corpus = readers.read(corpus_dir, listing.files or None)
        texts = [C.embed_input(d, p) for d in corpus.documents for p in d.paragraphs]
        vectors, embedded = _vectors(index_dir, embedder, texts, progress)
        where = where or Where()
        kept = where.manifest(index_dir, embedder.dim)
        manifest = _manifest(corpus_dir, corpus, embedder, store.choose_kind(kind, len(texts)), listing, kept)
        if kept["name"] == "milvus":
            from rag.index.store import milvus

            milvus.sync(kept, [builds.text_key(t) for t in texts], texts, vectors, where.milvus_token)
        path = builds.write(index_dir, corpus, texts, vectors, manifest)
    dropped = [d for doc in corpus.documents for d in doc.dropped]
    return BuildReport(
        len(texts), embedded, len(texts) - embedded, len(corpus.documents), dropped,
        corpus.problems, time.perf_counter() - t0, path,
    )


def _manifest(corpus_dir: Path, corpus: C.Corpus, embedder: Embedder, kind: str, listing: Listing,
              kept: dict[str, Any]) -> dict[str, Any]:
    """What a build records of itself: format, model, store, and the corpus files it was made from."""
    return {
        "format": FORMAT, "cleaning": CLEANING, "tokens": T.TOKENS, "model": embedder.name, "dim": embedder.dim,
        "precision": embedder.precision, "kind": kind,
        "store": kept, "paragraphs": sum(len(d.paragraphs) for d in corpus.documents),
        "documents": len(corpus.documents), "corpus_dir": str(corpus_dir.resolve()), "files": listing.hashes,
        "problems": corpus.problems, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": _versions(),
    }


def _vectors(index_dir: Path, embedder: Embedder, texts: list[str], progress: bool) -> tuple[np.ndarray, int]:
    """A vector for each text, reusing the live build's where the text is the same; and how many were embedded."""
    cache = builds.previous_vectors(index_dir, embedder)
    keys = [builds.text_key(t) for t in texts]
    todo = [i for i, k in enumerate(keys) if k not in cache]
    fresh = embedder.encode_passages([texts[i] for i in todo], progress=progress)
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, i in enumerate(todo):
        vectors[i] = fresh[row]
    for i, k in enumerate(keys):
        if k in cache:
            vectors[i] = cache[k]
    return vectors, len(todo)


def load(index_dir: Path, model: str | None = None, dim: int | None = None, where: Where | None = None) -> Index:
    """Load the live build, refusing a corrupt or mismatched one with a message."""
    manifest = builds.read_manifest(index_dir)
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
        if not f.is_file() or files.sha256(f) != digest:
            raise IndexError_(f"the index in {index_dir} is corrupt ({rel} is damaged): run `rag index` to rebuild it")
    try:
        ix = _read(path, manifest, where or Where())
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        raise IndexError_(f"the index in {index_dir} cannot be read ({e}): run `rag index` to rebuild it") from e
    faiss_rows = ix.store.faiss.ntotal if isinstance(ix.store, store.Local) else len(ix.paragraphs)
    if faiss_rows != len(ix.paragraphs) or ix.vectors.shape[0] != len(ix.paragraphs):
        raise IndexError_(f"the index in {index_dir} is inconsistent: run `rag index` to rebuild it")
    ix.manifest = manifest
    return ix


def _read(path: Path, manifest: dict[str, Any], where: Where) -> Index:
    paragraphs = [C.Paragraph(**json.loads(line)) for line in files.lines(path / "paragraphs.jsonl")]
    metadata = [C.Paragraph(**json.loads(line)) for line in files.lines(path / "metadata.jsonl")]
    documents = {d["name"]: d for d in map(json.loads, files.lines(path / "documents.jsonl"))}
    vectors = np.load(path / "embeddings.npy", mmap_mode="r")
    keys = (path / "keys.txt").read_text().split()
    kept = manifest.get("store", {"name": "faiss"})
    has_bm25 = paragraphs and kept["name"] == "faiss"
    bm25 = Postings.read(path / "bm25") if has_bm25 else None
    found: Any
    if kept["name"] == "milvus":
        from rag.index.store.milvus import Milvus

        found = Milvus(kept["uri"], kept["collection"], int(manifest["dim"]), keys, where.milvus_token)
    else:
        found = store.Local(store.read_faiss(path / "faiss.index"), bm25, keys)
    return Index(path, {}, paragraphs, documents, vectors, found, bm25, metadata)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("rag", "sentence-transformers", "faiss-cpu", "bm25s", "numpy", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
