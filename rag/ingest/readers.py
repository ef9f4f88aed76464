"""Files -> documents: a folder of pages (.txt, .md, .html, .pdf, .json), a JSONL file of documents, or a BEIR folder.

Nothing a reader meets is fatal: a file it cannot use is skipped and named in `problems`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest import corpus as C
from rag.ingest import formats

TEXT = (".txt", ".md")
SUFFIXES = TEXT + formats.HTML + formats.PDF + formats.JSON
MAX_FILE_BYTES = 10 * 2**20  # an article is never this long: a bigger file is a dump or a mistake


def read(path: Path, files: list[tuple[Path, str]] | None = None) -> C.Corpus:
    """A corpus from a folder of text files, a BEIR folder (corpus.jsonl) or a JSONL file of documents.

    `files` is the folder's listing from `listing`, when the caller has it already.
    """
    jsonl = jsonl_file(path)
    return read_jsonl(jsonl) if jsonl else read_folder(path, files)


def jsonl_file(path: Path) -> Path | None:
    """The JSONL file holding the corpus at `path` (itself, or a BEIR folder's corpus.jsonl); None for a folder of files."""
    if path.is_file() and path.suffix == ".jsonl":
        return path
    if (path / "corpus.jsonl").is_file():
        return path / "corpus.jsonl"
    return None


def read_jsonl(path: Path) -> C.Corpus:
    """Documents one JSON object a line: `id` (or BEIR's `_id`), `text`, optional `title`, `date`, `url`.

    The text is already clean: it is split at blank lines, and long blocks at sentence ends;
    citations name the document id. Bad lines are reported as problems and skipped.
    """
    corpus = C.Corpus()
    seen: set[str] = set()
    try:
        handle = path.open("rb")
    except OSError as e:
        raise CorpusError(f"cannot read {path}: {e.strerror or e}") from e
    with handle:
        for n, raw in enumerate(handle, 1):
            if raw.strip():
                _add_row(corpus, seen, f"{path.name} line {n}", raw)
    if not corpus.documents and not corpus.problems:
        corpus.problems.append(f"{path.name}: no documents")
    return corpus


def _add_row(corpus: C.Corpus, seen: set[str], where: str, raw: bytes) -> None:
    try:
        row = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        corpus.problems.append(f"{where}: not a JSON object ({e}), skipped")
        return
    doc_id = str(row.get("id", row.get("_id", ""))) if isinstance(row, dict) else ""
    text = row.get("text") if isinstance(row, dict) else None
    if not doc_id or not isinstance(text, str):
        corpus.problems.append(f"{where}: needs a string `text` and an `id`, skipped")
    elif doc_id in seen:
        corpus.problems.append(f"{where}: id {doc_id!r} seen before, skipped")
    elif not text.strip():
        seen.add(doc_id)
        corpus.problems.append(f"{where}: document {doc_id!r} is empty, skipped")
    else:
        seen.add(doc_id)
        meta = {k: str(row[k]) for k in ("date", "url") if row.get(k)}
        corpus.documents.append(C.from_plain(doc_id, str(row.get("title") or ""), text, meta))


def read_folder(folder: Path, files: list[tuple[Path, str]] | None = None) -> C.Corpus:
    """Parse every page below `folder`; files that cannot be used are reported, not fatal."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist: pass --corpus DIR or set RAG_CORPUS_DIR")
    corpus = C.Corpus()
    for path, problem in files if files is not None else listing(folder):
        name = path.relative_to(folder).as_posix()
        document, problem = (None, problem) if problem else page(name, path)
        if document is None:
            corpus.problems.append(f"{name}: {problem}")
        else:
            corpus.documents.append(document)
    C.dedupe_across(corpus)
    return corpus


def page(name: str, path: Path) -> tuple[C.Document | None, str]:
    """One file of a folder corpus as a document, or None and why not."""
    raw, problem = _bytes(path)
    return from_bytes(name, raw) if raw is not None else (None, problem)


def from_bytes(name: str, raw: bytes) -> tuple[C.Document | None, str]:
    """A document from a file's bytes, by its suffix (a text page is cleaned; others go to `formats`)."""
    if not name.lower().endswith(TEXT):
        return formats.read(name, raw)
    if b"\x00" in raw[:8192]:
        return None, "binary file, skipped"
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"not valid UTF-8 (byte {e.start}), skipped"
    if not content.strip():
        return None, "empty file, skipped"
    document = C.from_page(name, content)
    date = formats.dateline(content)
    return (replace(document, meta={**document.meta, "date": date}) if date else document), ""


def _bytes(path: Path) -> tuple[bytes | None, str]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, f"{size / 2**20:.0f} MB is over the {MAX_FILE_BYTES // 2**20} MB a corpus file may have, skipped"
        return path.read_bytes(), ""
    except OSError as e:
        return None, f"cannot be read ({e.strerror or e})"


def listing(folder: Path) -> list[tuple[Path, str]]:
    """Corpus files in a stable order, each with a problem ('' for none)."""
    return list(_walk(folder))


def _walk(folder: Path) -> Iterator[tuple[Path, str]]:
    """Symlink loops and unreadable folders become problems."""
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(folder, followlinks=True, onerror=None):
        st = os.stat(root)
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            yield Path(root), "symlink loop, skipped"
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            path = Path(root) / f
            if f.startswith(".") or not f.lower().endswith(SUFFIXES):
                continue
            yield (path, "") if path.exists() else (path, "broken link or symlink loop, skipped")
