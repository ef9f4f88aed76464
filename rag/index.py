"""Build, save and load the index: FAISS + BM25 + manifest.json, incremental by paragraph hash.

Layout of the index folder:

    index/CURRENT               the name of the live build, swapped atomically
    index/build-<stamp>/        manifest.json, paragraphs.jsonl, metadata.jsonl, documents.jsonl,
                                dropped.jsonl, embeddings.npy, faiss.index, bm25/ (plain bm25s files)
    index/.lock                 held while a build runs

A build writes a new folder and only then points CURRENT at it, so a crash at any moment
leaves the previous index loadable.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag import corpus as C
from rag import files, readers, store
from rag.embed import Embedder
from rag.errors import CorpusError, IndexError_, IndexLockedError
from rag.store import Where

FORMAT = 2  # 2: metadata.jsonl
CLEANING = 5  # bump when corpus cleaning changes, so old indexes count as stale (5: dates, pages, HTML, PDF)


@dataclass
class Index:
    path: Path
    manifest: dict[str, Any]
    paragraphs: list[C.Paragraph]  # searched: row i of `vectors`, `faiss` and `bm25`
    documents: dict[str, dict[str, str]]  # name -> {"title", "text", "date"?, "url"?}
    vectors: np.ndarray
    store: Any  # a store.Store: faiss.Local, or milvus.Milvus
    bm25: Any  # the build's bm25s index, for word weights (idf); None for a Milvus store
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
    """'missing', 'stale' (corpus, model, cleaning or store changed) or 'fresh'."""
    manifest = _read_manifest(index_dir)
    if manifest is None:
        return "missing"
    same = (
        manifest.get("model") == model
        and manifest.get("store", {}).get("name", "faiss") == (where or Where()).name
        and manifest.get("cleaning") == CLEANING
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
    with _lock(index_dir, on_wait):
        listing = listing or list_corpus(corpus_dir)
        corpus = readers.read(corpus_dir, listing.files or None)
        texts = [C.embed_input(d, p) for d in corpus.documents for p in d.paragraphs]
        vectors, embedded = _vectors(index_dir, embedder, texts, progress)
        manifest = {
            "format": FORMAT,
            "cleaning": CLEANING,
            "model": embedder.name,
            "dim": embedder.dim,
            "kind": store.choose_kind(kind, len(texts)),
            "store": (where or Where()).manifest(index_dir, embedder.dim),
            "paragraphs": len(texts),
            "documents": len(corpus.documents),
            "corpus_dir": str(corpus_dir.resolve()),
            "files": listing.hashes,
            "problems": corpus.problems,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "versions": _versions(),
        }
        kept: dict[str, Any] = manifest["store"]  # type: ignore[assignment]
        if kept["name"] == "milvus":
            from rag.store import milvus

            milvus.sync(kept, [_text_key(t) for t in texts], texts, vectors, (where or Where()).milvus_token)
        path = _write(index_dir, corpus, texts, vectors, manifest)
    dropped = [d for doc in corpus.documents for d in doc.dropped]
    return BuildReport(
        len(texts), embedded, len(texts) - embedded, len(corpus.documents), dropped,
        corpus.problems, time.perf_counter() - t0, path,
    )


def _vectors(index_dir: Path, embedder: Embedder, texts: list[str], progress: bool) -> tuple[np.ndarray, int]:
    """A vector for each text, reusing the live build's where the text is the same; and how many were embedded."""
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
    return vectors, len(todo)


def load(index_dir: Path, model: str | None = None, dim: int | None = None, where: Where | None = None) -> Index:
    """Load the live build, refusing a corrupt or mismatched one with a message."""
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
    import bm25s

    paragraphs = [C.Paragraph(**json.loads(line)) for line in files.lines(path / "paragraphs.jsonl")]
    metadata = [C.Paragraph(**json.loads(line)) for line in files.lines(path / "metadata.jsonl")]
    documents = {d["name"]: d for d in map(json.loads, files.lines(path / "documents.jsonl"))}
    vectors = np.load(path / "embeddings.npy", mmap_mode="r")
    keys = (path / "keys.txt").read_text().split()
    kept = manifest.get("store", {"name": "faiss"})
    has_bm25 = paragraphs and kept["name"] == "faiss"
    bm25 = bm25s.BM25.load(str(path / "bm25"), load_vocab=True, show_progress=False) if has_bm25 else None
    found: Any
    if kept["name"] == "milvus":
        from rag.store.milvus import Milvus

        found = Milvus(kept["uri"], kept["collection"], int(manifest["dim"]), keys, where.milvus_token)
    else:
        found = store.Local(store.read_faiss(path / "faiss.index"), bm25, keys)
    return Index(path, {}, paragraphs, documents, vectors, found, bm25, metadata)


def _write(index_dir: Path, corpus: C.Corpus, texts: list[str], vectors: np.ndarray, manifest: dict[str, Any]) -> Path:
    import faiss

    name = f"build-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    paragraphs = corpus.paragraphs
    files.write_lines(tmp / "paragraphs.jsonl", (asdict(p) for p in paragraphs))
    files.write_lines(tmp / "metadata.jsonl", (asdict(p) for d in corpus.documents for p in d.metadata))
    files.write_lines(
        tmp / "documents.jsonl", ({"name": d.name, "title": d.title, "text": d.text, **d.meta} for d in corpus.documents)
    )
    files.write_lines(tmp / "dropped.jsonl", (asdict(x) for doc in corpus.documents for x in doc.dropped))
    np.save(tmp / "embeddings.npy", vectors)
    (tmp / "keys.txt").write_text("".join(_text_key(t) + "\n" for t in texts))  # what row i embedded, for reuse
    if manifest.get("store", {"name": "faiss"})["name"] == "faiss":  # a Milvus collection keeps its own indexes
        faiss.write_index(store.faiss_index(vectors, manifest["kind"]), str(tmp / "faiss.index"))
        if paragraphs:
            store.bm25_index(texts).save(str(tmp / "bm25"), show_progress=False)
    manifest["checksums"] = {
        f.relative_to(tmp).as_posix(): files.sha256(f) for f in sorted(tmp.rglob("*")) if f.is_file()
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    files.fsync_tree(tmp)
    tmp.rename(index_dir / name)
    pointer = index_dir / f".CURRENT.{uuid.uuid4().hex[:8]}"
    pointer.write_text(name + "\n")
    os.replace(pointer, index_dir / "CURRENT")
    files.fsync_dir(index_dir)
    for old in index_dir.iterdir():
        if old.name != name and (old.name.startswith("build-") or old.name.startswith(".tmp-")):
            shutil.rmtree(old, ignore_errors=True)
    return index_dir / name


def _previous_vectors(index_dir: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the live build (of any format) by the hash of what was embedded, when it used the same model."""
    manifest = _read_manifest(index_dir)
    if not manifest or manifest.get("model") != embedder.name or manifest.get("dim") != embedder.dim:
        return {}
    path = index_dir / (index_dir / "CURRENT").read_text().strip()
    try:
        vectors = np.load(path / "embeddings.npy", mmap_mode="r")
        if (path / "keys.txt").is_file():
            keys = list(files.lines(path / "keys.txt"))
        else:  # format 1 kept no keys: a JSONL corpus embedded each paragraph with its title
            titled = readers.jsonl_file(Path(manifest.get("corpus_dir", ""))) is not None
            rows = [json.loads(line) for line in files.lines(path / "paragraphs.jsonl")]
            keys = [_text_key(f"{r['title']}\n{r['text']}" if titled and r["title"] else r["text"]) for r in rows]
    except (OSError, ValueError, KeyError):
        return {}
    if vectors.shape != (len(keys), embedder.dim):
        return {}
    return {k.strip(): vectors[i] for i, k in enumerate(keys)}


def _read_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        name = (index_dir / "CURRENT").read_text().strip()
        return dict(json.loads((index_dir / name / "manifest.json").read_text()))
    except (OSError, ValueError):
        return None


@contextmanager
def _lock(index_dir: Path, on_wait: Callable[[], None] | None) -> Iterator[None]:
    with (index_dir / ".lock").open("w") as f:
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
    return files.sha256_text(text)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("rag", "sentence-transformers", "faiss-cpu", "bm25s", "numpy", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
