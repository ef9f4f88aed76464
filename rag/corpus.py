"""Read a corpus, drop page debris, and split articles into paragraphs with verbatim spans.

Cleaning only ever drops or joins whole lines: every paragraph is `text[start:end]` of its
original document, so a citation can always be checked against the file it names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag import text as T

SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 10 * 2**20  # an article is never this long: a bigger file is a dump or a mistake
MAX_CHARS = 1000  # longer blocks are split at sentence boundaries
SHORT_WORDS = 6  # a sentence with fewer words is a fragment ("Shibutov stated.")
SHORT_BLOCK = 300  # characters: a plain document's blocks shorter than this join the next one
DUPLICATE = 0.8  # share of a paragraph's shingles seen before that makes it a duplicate

# A line that starts the page's tail: it and everything after it are not the article.
TAIL_MARKERS = frozenset(
    m.lower()
    for m in [
        "Latest news", "Related articles", "Related", "Read also", "Read more", "More stories",
        "Popular", "Most read", "Post a Comment", "Previous Post Next Post", "Leave a Reply",
        "Translate", "Comments", "Share this", "You may also like",
    ]
)
NAVIGATION = frozenset(m.lower() for m in ["Editor's choice", "Editor’s choice", "News", "Advertisement", "Share"])
CREDIT = re.compile(r"^(photo|picture|image|source|sources|credit|photo credit|illustration)s?\s*:", re.I)
CREDIT_NAMES = frozenset("wikimedia|wikimedia commons|getty images|reuters|afp|ap|shutterstock".split("|"))
BYLINE = re.compile(r"^(?i:original author|author|written by|by)\s*:?\s+[A-Z][\w.\-]+(\s+[A-Z][\w.\-]+){0,3}$")
PROMO = re.compile(r"watch the video|subscribe to|sign up for|click here", re.I)
CATEGORY_WORDS = frozenset(
    "news politics economy featured world business opinion security diplomatic democracy sport sports "
    "culture society analysis home region regions national international".split()
)
TERMINAL = tuple('.!?…"”’)')
BULLET = re.compile(r"^[\s•·\-–—*]+")


@dataclass(frozen=True)
class Paragraph:
    id: str  # "<file>#p<n>", n counting kept paragraphs from 1
    source: str  # the file name (or document id)
    title: str
    start: int  # character span in the original document: text == document[start:end]
    end: int
    text: str


@dataclass(frozen=True)
class Dropped:
    source: str
    start: int
    end: int
    reason: str
    text: str


@dataclass(frozen=True)
class Document:
    name: str
    title: str
    text: str
    paragraphs: tuple[Paragraph, ...]
    dropped: tuple[Dropped, ...]
    meta: dict[str, str] = field(default_factory=dict)  # "date" and "url" of a JSONL document
    structured: bool = False  # from a JSONL or BEIR file: clean text, its title worth embedding

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class Corpus:
    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files skipped, each with why

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [p for d in self.documents for p in d.paragraphs]


@dataclass
class _Unit:
    start: int
    end: int
    first: int  # index of the first and last line it spans, to know what is adjacent
    last: int


def read(path: Path) -> Corpus:
    """A corpus from a folder of text files, a BEIR folder (corpus.jsonl) or a JSONL file of documents."""
    files = source_files(path)
    return read_jsonl(files[0]) if files else read_folder(path)


def source_files(path: Path) -> list[Path]:
    """The JSONL file holding the corpus at `path` (itself, or a BEIR folder's corpus.jsonl); none for a folder of files."""
    if path.is_file() and path.suffix == ".jsonl":
        return [path]
    if (path / "corpus.jsonl").is_file():
        return [path / "corpus.jsonl"]
    return []


def read_jsonl(path: Path) -> Corpus:
    """Documents one JSON object a line: `id` (or BEIR's `_id`), `text`, optional `title`, `date`, `url`.

    The text is already clean: it is split at blank lines, and long blocks at sentence ends;
    citations name the document id. Bad lines are reported as problems and skipped.
    """
    import json

    from rag.errors import CorpusError

    corpus = Corpus()
    seen: set[str] = set()
    try:
        handle = path.open("rb")
    except OSError as e:
        raise CorpusError(f"cannot read {path}: {e.strerror or e}") from e
    with handle:
        for n, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                corpus.problems.append(f"{path.name} line {n}: not a JSON object ({e}), skipped")
                continue
            doc_id = str(row.get("id", row.get("_id", ""))) if isinstance(row, dict) else ""
            text = row.get("text") if isinstance(row, dict) else None
            if not doc_id or not isinstance(text, str):
                corpus.problems.append(f"{path.name} line {n}: needs a string `text` and an `id`, skipped")
                continue
            if doc_id in seen:
                corpus.problems.append(f"{path.name} line {n}: id {doc_id!r} seen before, skipped")
                continue
            seen.add(doc_id)
            if not text.strip():
                corpus.problems.append(f"{path.name} line {n}: document {doc_id!r} is empty, skipped")
                continue
            meta = {k: str(row[k]) for k in ("date", "url") if row.get(k)}
            corpus.documents.append(parse_plain(doc_id, str(row.get("title") or ""), text, meta))
    if not corpus.documents and not corpus.problems:
        corpus.problems.append(f"{path.name}: no documents")
    return corpus


def parse_plain(name: str, title: str, text: str, meta: dict[str, str] | None = None) -> Document:
    """A clean document: paragraphs at blank lines, short ones joined, long ones cut at sentence ends."""
    units = [
        _Unit(m.start() + len(m.group()) - len(m.group().lstrip()), m.start() + len(m.group().rstrip()), 0, 0)
        for m in re.finditer(r"(?:(?!\n\s*\n)[\s\S])+", text)
        if m.group().strip()
    ]
    merged: list[_Unit] = []
    for u in units:  # short blocks ("Sign up here.") join the one before, up to a paragraph's size
        if merged and merged[-1].end - merged[-1].start < SHORT_BLOCK and u.end - merged[-1].start <= MAX_CHARS:
            merged[-1] = _Unit(merged[-1].start, u.end, 0, 0)
        else:
            merged.append(u)
    pieces = _split_long(text, merged)
    paragraphs = tuple(
        Paragraph(f"{name}#p{n}", name, title, s, e, text[s:e]) for n, (s, e, _) in enumerate(pieces, 1)
    )
    return Document(name, title, text, paragraphs, (), meta or {}, True)


def embed_input(document: Document, paragraph: Paragraph) -> str:
    """What is embedded and BM25-indexed for a paragraph: a structured document's title goes with it."""
    if document.structured and document.title:
        return f"{document.title}\n{paragraph.text}"
    return paragraph.text


def read_folder(folder: Path) -> Corpus:
    """Parse every .txt/.md file below `folder`; unreadable files are reported, not fatal."""
    from rag.errors import CorpusError

    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist: pass --corpus DIR or set RAG_CORPUS_DIR")
    corpus = Corpus()
    for path, problem in walk(folder):
        name = path.relative_to(folder).as_posix()
        if problem:
            corpus.problems.append(f"{name}: {problem}")
            continue
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                corpus.problems.append(
                    f"{name}: {size / 2**20:.0f} MB is over the {MAX_FILE_BYTES // 2**20} MB a corpus file may have, skipped"
                )
                continue
            raw = path.read_bytes()
        except OSError as e:
            corpus.problems.append(f"{name}: cannot be read ({e.strerror or e})")
            continue
        if b"\x00" in raw[:8192]:
            corpus.problems.append(f"{name}: binary file, skipped")
            continue
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            corpus.problems.append(f"{name}: not valid UTF-8 (byte {e.start}), skipped")
            continue
        if not content.strip():
            corpus.problems.append(f"{name}: empty file, skipped")
            continue
        corpus.documents.append(parse(name, content))
    _drop_cross_document_duplicates(corpus)
    return corpus


def walk(folder: Path) -> Iterator[tuple[Path, str]]:
    """Corpus files in a stable order; symlink loops and unreadable folders become problems."""
    import os

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
            if not path.exists():
                yield path, "broken link or symlink loop, skipped"
            else:
                yield path, ""


def parse(name: str, content: str) -> Document:
    """Split one scraped page into its title, paragraphs and dropped blocks."""
    lines = _lines(content)
    dropped: list[Dropped] = []

    def drop(i: int, reason: str) -> None:
        s, e = lines[i]
        dropped.append(Dropped(name, s, e, reason, content[s:e]))

    i = 0
    while i < len(lines) and _is_category_strip(content[slice(*lines[i])]):
        drop(i, "category strip")
        i += 1
    title = content[slice(*lines[i])].strip() if i < len(lines) else name
    if i < len(lines):
        drop(i, "title")
        i += 1
    title_words = set(T.words(title))
    units: list[_Unit] = []
    for j in range(i, len(lines)):
        line = content[slice(*lines[j])]
        reason = _boilerplate(line, title_words)
        if reason == "page tail":
            for rest in range(j, len(lines)):
                drop(rest, f"page tail after {line.strip()!r}")
            break
        if reason:
            drop(j, reason)
        else:
            units.append(_Unit(*lines[j], j, j))
    paragraphs = _dedupe(name, content, _split_long(content, _merge(content, units)), title, dropped)
    return Document(name, title, content, tuple(paragraphs), tuple(sorted(dropped, key=lambda d: d.start)))


def _lines(content: str) -> list[tuple[int, int]]:
    """Spans of the non-blank lines, without surrounding white space or bullet marks."""
    spans = []
    for m in re.finditer(r"[^\n]+", content):
        line = m.group()
        lead = BULLET.match(line)
        start = m.start() + (lead.end() if lead else 0)
        end = m.end() - (len(line) - len(line.rstrip()))
        if end > start:
            spans.append((start, end))
    return spans


def _is_category_strip(line: str) -> bool:
    toks = line.split()
    return (
        len(toks) >= 4
        and all(t[:1].isupper() or t == "&" for t in toks)
        and not re.search(r"[.,:;!?\"“”]", line)
        and sum(t.lower() in CATEGORY_WORDS for t in toks) >= 2
    )


def _boilerplate(line: str, title_words: set[str]) -> str:
    """Why a line is not article text, or '' when it is."""
    key = line.strip().lower()
    if key in TAIL_MARKERS:
        return "page tail"
    if key in NAVIGATION:
        return "navigation"
    if CREDIT.match(key) or key in CREDIT_NAMES:
        return "credit"
    if BYLINE.match(line.strip()):
        return "byline"
    if PROMO.search(line):
        return "promo"
    w = set(T.words(line))
    if w and not line.rstrip().endswith(TERMINAL[:4]) and len(w & title_words) / len(w | title_words) >= 0.5:
        return "title repeat"
    return ""


def _merge(content: str, units: list[_Unit]) -> list[_Unit]:
    """Join headings and lead-ins to what follows, and short fragments to their neighbour."""
    merged: list[_Unit] = []
    carry: _Unit | None = None
    for u in units:
        if carry and carry.last + 1 == u.first:
            u = _Unit(carry.start, u.end, carry.first, u.last)
        elif carry:
            merged.append(carry)
        carry = None
        line = content[u.start : u.end]
        if line.endswith(":") or (not line.endswith(TERMINAL) and len(line) < 120):
            carry = u
        else:
            merged.append(u)
    if carry:
        merged.append(carry)
    out: list[_Unit] = []
    for n, u in enumerate(merged):
        short = len(T.words(content[u.start : u.end])) < SHORT_WORDS
        if short and out and out[-1].last + 1 == u.first:
            out[-1] = _Unit(out[-1].start, u.end, out[-1].first, u.last)
        elif short and n + 1 < len(merged) and merged[n + 1].first == u.last + 1:
            nxt = merged[n + 1]
            merged[n + 1] = _Unit(u.start, nxt.end, u.first, nxt.last)
        else:
            out.append(u)
    return out


def _split_long(content: str, units: list[_Unit]) -> list[tuple[int, int, int]]:
    """(start, end, length of the block it came from), blocks over MAX_CHARS cut at sentence ends."""
    pieces: list[tuple[int, int, int]] = []
    for u in units:
        size = u.end - u.start
        if size <= MAX_CHARS:
            pieces.append((u.start, u.end, size))
            continue
        chunk: tuple[int, int] | None = None
        for s, e in T.sentence_spans(content[u.start : u.end], u.start):
            if chunk is not None and e - chunk[0] > MAX_CHARS:
                pieces.append((*chunk, size))
                chunk = None
            chunk = (s, e) if chunk is None else (chunk[0], e)
        if chunk is not None:
            pieces.append((*chunk, size))
    return pieces


def _dedupe(
    name: str, content: str, pieces: list[tuple[int, int, int]], title: str, dropped: list[Dropped]
) -> list[Paragraph]:
    """Drop pieces mostly seen already, preferring those from shorter (paragraph-like) blocks."""
    seen = T.shingles(title)
    keep = set()
    for s, e, _ in sorted(pieces, key=lambda p: (p[2], p[0])):
        sh = T.shingles(content[s:e])
        if T.containment(sh, seen) >= DUPLICATE:
            dropped.append(Dropped(name, s, e, "duplicate", content[s:e]))
            continue
        seen |= sh
        keep.add((s, e))
    kept = sorted(keep)
    return [Paragraph(f"{name}#p{n}", name, title, s, e, content[s:e]) for n, (s, e) in enumerate(kept, 1)]


def _drop_cross_document_duplicates(corpus: Corpus) -> None:
    """The same paragraph in two files is kept once, in the first file."""
    seen: set[str] = set()
    for k, doc in enumerate(corpus.documents):
        keep, gone = [], list(doc.dropped)
        for p in doc.paragraphs:
            key = " ".join(T.words(p.text))
            if key in seen:
                gone.append(Dropped(doc.name, p.start, p.end, "duplicate of another file", p.text))
            else:
                seen.add(key)
                keep.append(p)
        if len(keep) != len(doc.paragraphs):
            renumbered = [replace(p, id=f"{doc.name}#p{n}") for n, p in enumerate(keep, 1)]
            corpus.documents[k] = replace(doc, paragraphs=tuple(renumbered), dropped=tuple(gone))
