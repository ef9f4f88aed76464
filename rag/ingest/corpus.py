"""Documents -> paragraphs with stable ids and verbatim spans; duplicates kept once.

Every paragraph is `text[start:end]` of its original document, so a citation can always be
checked against the file it names. A scraped page's title and author line become metadata
paragraphs (ids `<file>#title`, `<file>#author`) that can be cited but are not searched.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

from rag import text as T
from rag.ingest import clean
from rag.ingest.clean import Dropped

MAX_CHARS = 1000  # longer blocks are split at sentence boundaries
SHORT_WORDS = 6  # a sentence with fewer words is a fragment ("Shibutov stated.")
SHORT_BLOCK = 300  # characters: a plain document's blocks shorter than this join the next one
DUPLICATE = 0.8  # share of a paragraph's shingles seen before that makes it a duplicate


@dataclass(frozen=True)
class Paragraph:
    id: str  # "<file>#p<n>", n counting kept paragraphs from 1; "<file>#title", "<file>#author" for metadata
    source: str  # the file name (or document id)
    title: str
    start: int  # character span in the original document: text == document[start:end]
    end: int
    text: str
    kind: str = "text"  # "text", or the metadata field it holds: "title", "author"
    page: int = 0  # the PDF page it starts on, from 1; 0 for a document without pages


@dataclass(frozen=True)
class Document:
    name: str
    title: str
    text: str
    paragraphs: tuple[Paragraph, ...]
    dropped: tuple[Dropped, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)  # "date", "url", "author", "file" when known
    structured: bool = False  # from a JSONL or BEIR file: clean text, its title worth embedding
    metadata: tuple[Paragraph, ...] = ()  # the title and author lines of a scraped page

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


def from_page(name: str, content: str) -> Document:
    """A scraped page: debris dropped, lines joined into paragraphs, title and author kept as metadata."""
    page = clean.page(name, content)
    dropped = list(page.dropped)
    units = _merge(content, [_Unit(s, e, n, n) for s, e, n in page.lines])
    paragraphs = _dedupe(name, content, _split_long(content, units), page.title, dropped)
    metadata = tuple(
        Paragraph(f"{name}#{kind}", name, page.title, s, e, content[s:e], kind) for kind, (s, e) in page.metadata.items()
    )
    return Document(name, page.title, content, tuple(paragraphs), tuple(sorted(dropped, key=lambda d: d.start)),
                    metadata=metadata)


def from_plain(name: str, title: str, text: str, meta: dict[str, str] | None = None) -> Document:
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
        if line.endswith(":") or (not line.endswith(clean.TERMINAL) and len(line) < 120):
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


def dedupe_across(corpus: Corpus) -> None:
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
