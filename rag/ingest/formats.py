"""Saved web pages, PDFs and single JSON documents -> documents, with their dates.

An HTML page goes through trafilatura: the article's text (navigation, cookie banners, related
lists and bylines left out), its title, author, date and URL. A PDF goes through pypdf, a page at
a time; each paragraph remembers its page. The extracted text is the document's text: it is stored
in the index, citations are spans of it, and `/documents/{name}` serves it. A file that yields no
text is skipped and named, never fatal.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from dataclasses import replace

from rag.ingest import corpus as C

HTML = (".html", ".htm")
PDF = (".pdf",)
JSON = (".json",)

MONTHS = {m: n for n, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")], 1) for m in names}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
DATELINE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})\s+(?P<m1>{_MONTH})\.?,?\s+(?P<y1>\d{{4}})"
    rf"|(?P<m2>{_MONTH})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{{4}})"
    rf"|(?P<y3>\d{{4}})-(?P<m3>\d{{2}})-(?P<d3>\d{{2}}))\b",
    re.I,
)
DATELINE_CHARS = 600  # a dateline sits at the top of a page
MIN_ARTICLE_WORDS = 20  # less extracted text than this is a menu or a stub, not an article


def dateline(text: str) -> str:
    """The first full date (day, month and year) near the top of `text`, as YYYY-MM-DD; '' when there is none.

    >>> dateline("Astana, 22 November 2022 - Talks"), dateline("March 1st, 2022: news"), dateline("On 22 November, ...")
    ('2022-11-22', '2022-03-01', '')
    """
    for m in DATELINE.finditer(text[:DATELINE_CHARS]):
        g = m.groupdict()
        year = g["y1"] or g["y2"] or g["y3"]
        month = g["m1"] or g["m2"] or g["m3"]
        day = g["d1"] or g["d2"] or g["d3"]
        number = int(month) if month.isdigit() else MONTHS[month.lower()]
        try:
            return dt.date(int(year), number, int(day)).isoformat()
        except ValueError:
            continue
    return ""


def read(name: str, raw: bytes) -> tuple[C.Document | None, str]:
    """A document from an HTML, PDF or JSON file's bytes, or None and why it cannot be used."""
    suffix = name.lower().rsplit(".", 1)[-1]
    if f".{suffix}" in HTML:
        return html(name, raw)
    if f".{suffix}" in PDF:
        return pdf(name, raw)
    return json_document(name, raw)


def html(name: str, raw: bytes) -> tuple[C.Document | None, str]:
    """The article of a saved web page, with its title, author, date and URL."""
    import trafilatura

    try:
        found = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, include_tables=False)
    except Exception as e:  # trafilatura raises many kinds on malformed markup
        return None, f"not a readable HTML page ({type(e).__name__}), skipped"
    text = getattr(found, "text", None) or ""
    if len(text.split()) < MIN_ARTICLE_WORDS:
        return None, "no article text found in the page, skipped"
    body = "\n\n".join(line.strip() for line in text.splitlines() if line.strip())
    meta = {"file": name}
    for key in ("date", "url", "author"):
        if value := getattr(found, key, None):
            meta[key] = str(value)
    return C.from_plain(name, str(getattr(found, "title", None) or name), body, meta), ""


def pdf(name: str, raw: bytes) -> tuple[C.Document | None, str]:
    """A PDF's text, a page at a time; each paragraph carries the number of the page it starts on."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged file is reported as a problem, not as pypdf's log lines
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            return None, "encrypted PDF, skipped"
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except Exception as e:  # pypdf raises many kinds on a damaged file
        return None, f"broken PDF ({type(e).__name__}), skipped"
    if not any(p.strip() for p in pages):
        return None, "the PDF has no text (scanned images only?), skipped"
    texts = ["\n\n".join(" ".join(b.split()) for b in re.split(r"\n\s*\n", page) if b.strip()) for page in pages]
    text = "\n\n".join(t for t in texts if t)
    title = str(getattr(info, "title", None) or "").strip() or text.split("\n", 1)[0][:120]
    meta = {"file": name}
    created = getattr(info, "creation_date", None) if info else None
    if isinstance(created, dt.datetime):
        meta["date"] = created.date().isoformat()
    paragraphs: list[C.Paragraph] = []
    at = 0
    for number, page_text in enumerate(texts, 1):  # paragraphs never run across a page break
        if not page_text:
            continue
        for p in C.from_plain(name, title, page_text).paragraphs:
            paragraphs.append(replace(p, id=f"{name}#p{len(paragraphs) + 1}", start=p.start + at, end=p.end + at, page=number))
        at += len(page_text) + 2
    return C.Document(name, title, text, tuple(paragraphs), (), meta, True), ""


def json_document(name: str, raw: bytes) -> tuple[C.Document | None, str]:
    """One document as JSON: `{"title"?, "text", "date"?, "url"?}`; its file name is its id."""
    try:
        row = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"not JSON ({e}), skipped"
    if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
        return None, 'needs a JSON object with a non-empty string "text", skipped'
    meta = {k: str(row[k]) for k in ("date", "url") if row.get(k)}
    return C.from_plain(name, str(row.get("title") or ""), row["text"], meta), ""
