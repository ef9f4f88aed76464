"""Adding and removing documents: kept in the corpus folder, indexed incrementally, swapped in atomically.

An added file is checked (it must yield a document), then written into `<corpus>/added/` with
a write-then-rename and an fsync, so that once a caller is told "added" the file survives a crash
and every later build keeps it. The index is then rebuilt, which embeds only the new paragraphs
(`index.build` reuses every vector it has), and the pipeline is pointed at the new build in one
step. Ingests in a process are serialised by a lock, and builds across processes by the index lock.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InputError, NotFound
from rag.ingest import files, readers

MANAGED = "added"  # the corpus subfolder that holds added documents
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_lock = threading.Lock()


@dataclass(frozen=True)
class Added:
    name: str  # the document's name in the corpus, as citations give it
    title: str
    paragraphs: int
    date: str


def lock() -> threading.Lock:
    """The lock that serialises ingests in this process."""
    return _lock


def check_folder(corpus_dir: Path) -> None:
    if readers.jsonl_file(corpus_dir) is not None or not corpus_dir.is_dir():
        raise InputError(f"documents can be added to a folder corpus only, and {corpus_dir} is not one")


def add(corpus_dir: Path, filename: str, data: bytes, max_bytes: int = readers.MAX_FILE_BYTES) -> Added:
    """Check the file and write it into the corpus; the index is not touched (see `refresh`)."""
    check_folder(corpus_dir)
    name = safe_name(filename)
    if len(data) > max_bytes:
        raise InputError(f"{name} is {len(data):,} bytes; the limit is {max_bytes:,}")
    document, problem = readers.from_bytes(f"{MANAGED}/{name}", data)
    if document is None:
        raise InputError(f"{name}: {problem.removesuffix(', skipped')}")
    folder = corpus_dir / MANAGED
    folder.mkdir(exist_ok=True)
    tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / name)
    files.fsync_dir(folder)
    return Added(document.name, document.title, len(document.paragraphs), document.meta.get("date", ""))


def remove(corpus_dir: Path, name: str) -> None:
    """Delete a document's file from the corpus folder (the index is not touched; see `refresh`)."""
    check_folder(corpus_dir)
    root = corpus_dir.resolve()
    path = (corpus_dir / name).resolve()
    if root not in path.parents or not path.is_file() or not name.lower().endswith(readers.SUFFIXES):
        raise NotFound(f"no document named {name!r} in the corpus: names are as citations give them")
    path.unlink()
    files.fsync_dir(path.parent)


def safe_name(filename: str) -> str:
    """A file name that stays inside the managed folder and keeps an accepted suffix.

    >>> safe_name("../../etc/My Page (1).HTML"), safe_name("note.txt")
    ('My-Page-1-.HTML', 'note.txt')
    """
    base = SAFE_NAME.sub("-", Path(filename.replace("\\", "/")).name).strip(".-") or "document"
    if not base.lower().endswith(readers.SUFFIXES):
        raise InputError(f"{filename!r} is not a supported file: use one of {', '.join(readers.SUFFIXES)}")
    return base
