"""A build folder on disk: written whole under a temporary name, then made live by swapping CURRENT.

    index/CURRENT               the name of the live build, swapped atomically
    index/build-<stamp>/        manifest.json and the build's files (see `rag.index.lifecycle`)
    index/.lock                 held while a build runs

A crash at any moment leaves the previous build live and loadable.
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
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexLockedError
from rag.index import store
from rag.index.embed import Embedder
from rag.ingest import corpus as C
from rag.ingest import files, readers


def write(index_dir: Path, corpus: C.Corpus, texts: list[str], vectors: np.ndarray, manifest: dict[str, Any]) -> Path:
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
    (tmp / "keys.txt").write_text("".join(text_key(t) + "\n" for t in texts))  # what row i embedded, for reuse
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


def previous_vectors(index_dir: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the live build (of any format) by the hash of what was embedded, when it used the same model."""
    manifest = read_manifest(index_dir)
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
            keys = [text_key(f"{r['title']}\n{r['text']}" if titled and r["title"] else r["text"]) for r in rows]
    except (OSError, ValueError, KeyError):
        return {}
    if vectors.shape != (len(keys), embedder.dim):
        return {}
    return {k.strip(): vectors[i] for i, k in enumerate(keys)}


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        name = (index_dir / "CURRENT").read_text().strip()
        return dict(json.loads((index_dir / name / "manifest.json").read_text()))
    except (OSError, ValueError):
        return None


@contextmanager
def lock(index_dir: Path, on_wait: Callable[[], None] | None) -> Iterator[None]:
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


def text_key(text: str) -> str:
    return files.sha256_text(text)
