"""Words of opposite meaning, so that a claim saying the source's opposite in plain words is read as a negation.

"Succeeded in calming the protests" against "failed to reduce the protests", "left its doctrine
unchanged" against "made changes to its doctrine": neither holds a word of negation. The table is
WordNet 3.0's antonyms, widened to their synonyms (rag/models/antonyms/, written by `make antonyms`, with WordNet's
licence), keyed by word stem so that every form of a word meets every form of its opposite.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rag import text as T
from rag.errors import RagError

TABLE = Path(__file__).resolve().parent.parent / "models" / "antonyms" / "antonyms.tsv"


@lru_cache(maxsize=1)
def _opposites(table: Path = TABLE) -> dict[str, frozenset[str]]:
    """Word stem -> the stems of its opposites, over every part of speech."""
    if not table.is_file():
        raise RagError(f"the table of opposites {table} is missing: run `make antonyms`")
    out: dict[str, set[str]] = {}
    for line in table.read_text().splitlines():
        _, word, opposite = line.split("\t")
        a, b = T.stems(word), T.stems(opposite)
        if len(a) == 1 and len(b) == 1 and a != b:
            out.setdefault(a[0], set()).add(b[0])
    return {k: frozenset(v) for k, v in out.items()}


def opposed(claim: str, source: str) -> int:
    """How many words of the source the claim opposes: the claim holds an opposite of the source's word, the
    source lacks that opposite, and the claim lacks the word ("stayed unchanged" opposes "changes" once).

    >>> opposed("The talks succeeded.", "The talks failed."), opposed("It stayed unchanged.", "It made changes.")
    (1, 1)
    >>> opposed("The talks failed.", "The talks failed."), opposed("Exports rose but imports fell.", "Imports fell and exports rose.")
    (0, 0)
    """
    table, mine, theirs = _opposites(), set(T.stems(claim)), set(T.stems(source))
    return len({o for w in mine - theirs for o in table.get(w, ()) if o in theirs and o not in mine})
