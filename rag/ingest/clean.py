"""Page debris out of scraped text pages; the debris lists live here.

Cleaning decides, line by line, what is article text, what is the page's metadata (its title
and author line, kept so that they can be cited) and what is debris (navigation, credits,
promos, the page tail). It only ever keeps or drops whole lines, never rewrites a character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag import text as T

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
class Dropped:
    source: str
    start: int
    end: int
    reason: str
    text: str


@dataclass(frozen=True)
class Page:
    title: str
    lines: list[tuple[int, int, int]]  # (start, end, line number) of the article's lines, in order
    metadata: dict[str, tuple[int, int]]  # "title", "author" -> span of that line
    dropped: list[Dropped]


def page(name: str, content: str) -> Page:
    """Sort one scraped page's lines into article text, metadata and debris."""
    lines = line_spans(content)
    dropped: list[Dropped] = []
    drop = lambda i, reason: dropped.append(Dropped(name, *lines[i], reason, content[slice(*lines[i])]))  # noqa: E731
    i = 0
    while i < len(lines) and _is_category_strip(content[slice(*lines[i])]):
        drop(i, "category strip")
        i += 1
    metadata: dict[str, tuple[int, int]] = {}
    title = name
    if i < len(lines):
        title, metadata["title"] = content[slice(*lines[i])].strip(), lines[i]
        i += 1
    title_words = set(T.words(title))
    kept: list[tuple[int, int, int]] = []
    for j in range(i, len(lines)):
        line = content[slice(*lines[j])]
        reason = _debris(line, title_words)
        if reason == "page tail":
            for rest in range(j, len(lines)):
                drop(rest, f"page tail after {line.strip()!r}")
            break
        if reason == "byline" and "author" not in metadata:
            metadata["author"] = lines[j]
        elif reason:
            drop(j, reason)
        else:
            kept.append((*lines[j], j))
    return Page(title, kept, metadata, dropped)


def line_spans(content: str) -> list[tuple[int, int]]:
    """Spans of the non-blank lines, without surrounding white space or bullet marks.

    >>> line_spans("Title\\n\\n  • First item.\\n")
    [(0, 5), (11, 22)]
    """
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


def _debris(line: str, title_words: set[str]) -> str:
    """Why a line is not article text ("byline" for an author line), or '' when it is.

    >>> _debris("Related articles", set()), _debris("By Jane Roe", set()), _debris("It rained.", set())
    ('page tail', 'byline', '')
    """
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
