"""Synthetic claims from SQuAD 2.0 paragraphs, true and false, for the consistency checker (FactCC-style).

Each sentence of a paragraph is turned by rule into claims checked against that paragraph:

    true:  itself, a clause, a short clause (a filler word left out), a compression (a modifier or clause dropped), a moved clause
    false: negation (inserted or removed), number (or date) changed, entity swapped for another
           name of the article, roles (two noun phrases swapped), cause (an invented one added),
           joined (a sentence of another passage joined on), event (the sentence of another
           paragraph of the article that shares the most words, about a different event)

>>> import random
>>> made = claims("The army defeated the rebels in 1066.", "The army defeated the rebels in 1066.", Article(
...     ["The army defeated the rebels in 1066."], ["Harold"], ["The king had not left York."]), random.Random(0))
>>> made["roles"]
'The rebels defeated the army in 1066.'
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from rag import text as T
from rag.answer import verify as V
from rag.answer.retrieve import Hit
from rag.ingest.corpus import Paragraph

TRUE = ("itself", "clause", "short", "compression", "moved")
FALSE = ("negation", "number", "entity", "roles", "cause", "joined", "event")
AUX = re.compile(r"\b(is|was|are|were|has|had|have|will|would|can|could|should|may|might|must)\b")
PAST = re.compile(r"\b(?<!\bthe\s)([a-z]{3,}?)(ed)\b")
NEGATED = re.compile(r"\b(not|never|no longer)\s+|(?<=\w)n't\b")
NP = re.compile(r"\b(?:[Tt]he|[Aa]n?|[Ii]ts|[Hh]is|[Hh]er|[Tt]heir)\s+([a-z]{3,})\b")
CAUSES = ("because of", "due to", "as a result of", "owing to", "thanks to", "in order to", "so that",
          "which led to", "because", "caused by")
JOINERS = (", and ", ", while ", "; ", ", but ", ", whereas ")
FILLERS = frozenset("the a an also then only very all both".split())
MONTHS = "January February March April May June July August September October November December".split()
WORDS_N = "one two three four five six seven eight nine ten twelve twenty hundred thousand million".split()


@dataclass(frozen=True)
class Article:
    sentences: list[str]  # every sentence of the article's paragraphs, in order
    names: list[str]  # the capitalised names it uses
    others: list[str]  # sentences of other articles, for joins and causes


def names_of(s: str) -> list[str]:
    """Capitalised names of `s`, runs joined ("Holy Roman Empire"), the first word only when not a common word."""
    runs = re.finditer(r"(?:[A-Z][\w’'-]+)(?:\s+(?:of\s+)?[A-Z][\w’'-]+)*", s)
    return [m.group() for m in runs if m.group().split()[0].lower() not in T.STOPWORDS and (m.start() or " " in m.group())]


def _negation(s: str, rng: random.Random) -> str | None:
    """A negation removed when `s` has one (half the time), else inserted: after an auxiliary ("not",
    "never", "no longer"), or before a past-tense verb ("never", "did not" and the verb's base)."""
    if (m := NEGATED.search(s)) and rng.random() < 0.5:
        return s[: m.start()] + s[m.end() :]
    options = []
    if m := AUX.search(s):
        options.append(s[: m.end()] + " " + rng.choice(["not", "never", "no longer", "not"]) + s[m.end() :])
    if m := PAST.search(s, 1):
        base = m.group(1) + ("e" if m.group(1).endswith(("at", "iz", "uc", "ag", "iv", "ur", "os")) else "")
        said = rng.choice([f"did not {base}", f"never {m.group()}", f"did not {base}"])
        options.append(s[: m.start()] + said + s[m.end() :])
    return rng.choice(options) if options else None


def _number(s: str, rng: random.Random) -> str | None:
    if m := re.search(r"\b\d[\d,]*\b", s):
        n = int(m.group().replace(",", ""))
        new = n + rng.choice([-1, 1]) * (rng.randint(1, 30) if 1000 <= n <= 2100 else rng.randint(1, max(2, n // 2 + 1)))
        return s[: m.start()] + str(max(new, 0) if new != n else n + 1) + s[m.end() :]
    for group in (MONTHS, WORDS_N):
        if found := [w for w in group if re.search(rf"\b{w}\b", s)]:
            w = found[0]
            return re.sub(rf"\b{w}\b", rng.choice([x for x in group if x != w]), s, count=1)
    return None


def _entity(s: str, paragraph: str, art: Article, rng: random.Random) -> str | None:
    mine = names_of(s)
    near = [n for n in names_of(paragraph) if n not in s]  # a name the passage holds: facts checks pass
    pool = near if near and rng.random() < 0.6 else [n for n in art.names if n not in s]
    if not mine or not pool:
        return None
    return s.replace(rng.choice(mine), rng.choice(pool), 1)


def _roles(s: str, rng: random.Random) -> str | None:
    named = list(dict.fromkeys(names_of(s)))
    if len(named) >= 2 and rng.random() < 0.5:
        a, b = rng.sample(named, 2)
    else:
        heads = list(dict.fromkeys(m.group(1) for m in NP.finditer(s)))
        if len(heads) < 2:
            return None
        a, b = heads[0], heads[1]
    return _swap(s, a, b)


def _swap(s: str, a: str, b: str) -> str | None:
    """`s` with the first `a` and the first `b` (whole words) trading places."""
    ma, mb = re.search(rf"(?<![\w-]){re.escape(a)}(?![\w-])", s), re.search(rf"(?<![\w-]){re.escape(b)}(?![\w-])", s)
    if not ma or not mb:
        return None
    x, y = sorted([ma, mb], key=lambda m: m.start())
    if x.end() > y.start():
        return None
    return s[: x.start()] + y.group() + s[x.end() : y.start()] + x.group() + s[y.end() :]


def _cause(s: str, paragraph: str, art: Article, rng: random.Random) -> str:
    """`s` with an invented cause: a noun phrase of its paragraph or of the article after a connective."""
    where = paragraph if rng.random() < 0.4 else rng.choice(art.sentences)  # the passage's own words, at times
    spans = [m.group() for m in re.finditer(r"\b(?:the|a|an|its|their)\s+\w+(?:\s+\w+){1,3}", where)]
    reason = rng.choice(spans) if spans else "the " + " ".join(T.content_words(rng.choice(art.sentences))[:3])
    connector = rng.choice(CAUSES)
    if connector in CAUSES[:5] and rng.random() < 0.25:
        return f"{connector.capitalize()} {reason}, {s[0].lower() + s[1:]}"
    return s.rstrip(".") + f" {connector} {reason}."


def _compression(s: str, rng: random.Random) -> str | None:
    options = [re.sub(r"\s*\([^)]*\)", "", s)]
    options.append(re.sub(r"\b\w{4,}ly\s+", "", s))
    options.append(re.sub(r",\s+(?:which|who|where|when|while|although)\b[^,]*(?=[,.])", "", s))
    parts = [p for p in re.split(r",\s+", s)]
    if len(parts) >= 3:
        drop = rng.randrange(1, len(parts) - 1)
        options.append(", ".join(parts[:drop] + parts[drop + 1 :]))
    if m := re.match(r"^(In|On|At|After|During|By|Since|Before)\b[^,]{2,40},\s+", s):
        options.append(s[m.end()].upper() + s[m.end() + 1 :])
    options = [o for o in options if o != s and len(T.words(o)) >= 6]
    return rng.choice(options) if options else None


def _short(parts: list[str], rng: random.Random) -> str | None:
    """A clause with a filler word (an article, an adverb) left out: short, faithful and no verbatim quote."""
    options = []
    for part in parts:
        ws = part.rstrip(".").split()
        drop = [i for i, w in enumerate(ws) if i and (w.lower() in FILLERS or (w.endswith("ly") and len(w) > 4))]
        if drop:
            i = rng.choice(drop)
            options.append(" ".join(ws[:i] + ws[i + 1 :]) + ".")
    return rng.choice(options) if options else None


def _moved(s: str) -> str | None:
    """A leading phrase moved to the end: "In 1066, X did Y." -> "X did Y in 1066."."""
    m = re.match(r"^((?:In|On|At|After|During|By|Since|Before|From)\b[^,]{2,40}),\s+(.+?)([.!?]?)$", s)
    if not m or len(T.words(m.group(2))) < 4:
        return None
    rest = m.group(2)
    first = rest.split()[0]
    rest = rest if names_of(first) else rest[0].lower() + rest[1:]
    return f"{rest[0].upper() + rest[1:]} {m.group(1)[0].lower() + m.group(1)[1:]}{m.group(3) or '.'}"


def _event(s: str, paragraph: str, art: Article) -> str | None:
    """The sentence of another paragraph of the article sharing the most content words with `s`."""
    mine = set(T.stems(s))
    best, score = None, 0.2
    for o in art.sentences:
        if o in paragraph:
            continue
        theirs = set(T.stems(o))
        j = len(mine & theirs) / max(1, len(mine | theirs))
        if j > score:
            best, score = o, j
    return best


def claims(s: str, paragraph: str, art: Article, rng: random.Random) -> dict[str, str]:
    """The claims made from sentence `s` of `paragraph` by each rule that applies."""
    other = rng.choice(art.others)
    parts = [p for p in V.clauses(s)[1:] if len(T.words(p)) >= 6 and "," not in p]
    made = {"itself": s, "clause": max(parts, key=len).rstrip(".") + "." if parts else None,
            "short": _short([p for p in V.clauses(s)[1:] if len(T.words(p)) >= 5], rng),
            "compression": _compression(s, rng), "moved": _moved(s),
            "negation": _negation(s, rng), "number": _number(s, rng), "entity": _entity(s, paragraph, art, rng),
            "roles": _roles(s, rng), "cause": _cause(s, paragraph, art, rng),
            "joined": s.rstrip(".") + rng.choice(JOINERS) + other[0].lower() + other[1:],
            "event": _event(s, paragraph, art)}
    return {k: v for k, v in made.items() if v and (k == "itself" or v != s)}


def sample(data_dir: Path, titles: list[str], n: int, seed: int = 0) -> list[tuple[str, str, dict[str, str]]]:
    """(paragraph, sentence, claims) for up to `n` sentences (8 words or more) of the named articles."""
    data = json.loads((data_dir / "dev-v2.0.json").read_text())["data"]
    wanted = set(titles)
    rng = random.Random(seed)
    pool, arts = [], {}
    for a in data:
        sents = [p["context"][x:y] for p in a["paragraphs"] for x, y in T.sentence_spans(p["context"])]
        others = [x for b in data if b["title"] != a["title"] and b["title"] in wanted
                  for p in b["paragraphs"][:3] for x in [p["context"].split(". ")[0] + "."]]
        if a["title"] not in wanted:
            continue
        names = sorted({w for x in sents for w in names_of(x)})
        arts[a["title"]] = Article(sents, names, others or sents)
        pool += [(a["title"], p["context"], p["context"][x:y]) for p in a["paragraphs"]
                 for x, y in T.sentence_spans(p["context"]) if len(T.words(p["context"][x:y])) >= 8]
    return [(para, s, claims(s, para, arts[t], rng)) for t, para, s in rng.sample(pool, min(n, len(pool)))]


def accepted(claim: str, para: str, embed_fn: V.Embed, mode: str) -> bool:
    """Whether verification (with `mode`) accepts `claim` citing `para`, as it checks an answer's sentence."""
    hit = Hit(Paragraph("x#p1", "x", "", 0, len(para), para), 1.0)
    v = V.verify(claim + " [1]", [hit], embed_fn, "", mode)
    return bool(v.claims) and all(c.supported for c in v.claims)


def tally(samples: list[tuple[str, str, dict[str, str]]], embed_fn: V.Embed, mode: str) -> dict[str, float]:
    """Per kind, the share of its claims verification accepts."""
    seen: dict[str, list[bool]] = {}
    for para, _, made in samples:
        for kind, claim in made.items():
            seen.setdefault(kind, []).append(accepted(claim, para, embed_fn, mode))
    return {k: round(sum(seen[k]) / len(seen[k]), 3) for k in (*TRUE, *FALSE) if seen.get(k)}


def counts(samples: list[tuple[str, str, dict[str, str]]]) -> dict[str, int]:
    return {k: sum(k in made for _, _, made in samples) for k in (*TRUE, *FALSE)}
