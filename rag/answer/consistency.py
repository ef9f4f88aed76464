"""The hand rules of meaning: whether a claim keeps what the source sentence it matches best says.

Polarity (as many negations, a word standing for its opposite counting as one: `opposites`), names (none standing where the source has another, the shared ones in
the source's order, a clause of the source allowed to move), a claim made of the source's own words in their
order, numbers spelt out, and causes (a claim's cause must be stated as one by the source, in the claim's
words). Measured on synthetic claims of
SQuAD 2.0's test articles (`bench/consistency.py`), on the corpus through `rag check`
(`bench/check_claims.py`) and on the local model's labelled sentences (`bench/verify_labelled.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag import text as T
from rag.answer import opposites
from rag.text import names

COVERAGE = 0.5
NEGATION = re.compile(r"\b(not|no|never|none|nobody|nothing|neither|nor|cannot|without)\b|n't\b", re.I)
DENIAL = re.compile(r"\b(?:(?:refus|fail|declin)\w* to|avoid\w*) (\w+)", re.I)  # "refused to recognize" denies as "did not" does
PASSIVE = re.compile(r"\b(by|from)\b", re.I)
CAUSE = re.compile(r"\b(because|due to|owing to|as a result of|caused by|thanks to|in order to|so that|led to|"
                   r"leading to|resulted in|therefore|hence)\b", re.I)
PARTS = re.compile(r"\s*[,;:—–]\s+|\s+-\s+|\s*\(|\)\s*")


def consistent(claim: str, piece: str, source: str) -> bool:
    """The hand rules: `claim` keeps what the `piece` (a clause or all) of the `source` sentence it matches best
    says: as many negations (a word for its opposite counts as one), no name standing where the source has another (`substituted`), the numbers it spells
    out, the names they share in the same order and, when the claim uses only the source's words, those words in
    its order too (a clause of the source may have moved; the names' order is not held against a passive claim), and no cause the source does not give (it must state a cause too, in the claim's words).

    >>> s = "Tokayev asked Russia to send troops because of the unrest."
    >>> consistent("Tokayev asked Russia to send troops.", s, s), consistent("Tokayev did not ask Russia for troops.", s, s)
    (True, False)
    >>> consistent("Russia asked Tokayev to send troops.", s, s), consistent("Troops came because of high prices.", s, s)
    (False, False)
    >>> r = "Tokayev refused to recognize the republics."
    >>> consistent("Tokayev recognized the republics.", r, r), consistent("Tokayev did not recognize the republics.", r, r)
    (False, True)
    """
    if not _same_polarity(claim, piece) or substituted(claim, source):
        return False
    if not _number_words_kept(claim, source):
        return False
    named = capitalised(source)
    shared = [w for w in dict.fromkeys(capitalised(claim)) if w in named]
    if (not PASSIVE.search(claim) and not _in_order(shared, source)) or _reordered(claim, source):
        return False
    m = CAUSE.search(claim)
    return m is None or (bool(CAUSE.search(source)) and T.overlap(claim[m.start() :], source, {}) >= COVERAGE)


def _same_polarity(claim: str, piece: str) -> bool:
    """Whether the claim affirms what the piece affirms: as many negations, or, when a word of the claim stands
    where the piece has its opposite (`opposites.opposed`: "succeeded" for "failed"), a negation more or fewer.

    >>> _same_polarity("The talks succeeded.", "The talks failed."), _same_polarity("The talks did not succeed.", "The talks failed.")
    (False, True)
    >>> _same_polarity("The statement blamed Russia.", "The statement avoided blaming Russia.")
    False
    """
    mine, theirs, flipped = _negations(claim, claim), _negations(piece, claim), opposites.opposed(claim, piece)
    return mine == theirs if not flipped else (mine + flipped) % 2 == theirs % 2


def _negations(text: str, claim: str) -> int:
    """How many times `text` denies: "not", "never", ..., and "refused to", "failed to", "declined to", "avoided" before a
    verb the claim uses (the promises "failed to reduce" the protests denies nothing a claim about the
    concessions says).

    >>> _negations("He refused to sign and failed to reduce it.", "He signed it."), _negations("No.", "")
    (1, 1)
    """
    stems = set(T.stems(claim))
    return len(NEGATION.findall(text)) + sum(set(T.stems(m.group(1))) <= stems for m in DENIAL.finditer(text))


def _in_order(shared: list[str], source: str) -> bool:
    """Whether the names `shared` come in the order the source gives them, as written or with one of its
    clauses moved to the front or the end ("After the summit, X did Y" = "X did Y after the summit")."""
    for order in _orders(source):
        named = capitalised(" ".join(order))
        if all(w in named for w in shared) and shared == sorted(shared, key=named.index):
            return True
    return False


def _reordered(claim: str, source: str) -> bool:
    """Whether the claim is the source's words with two of its phrases trading places across what stands between
    them, in the order the source is written ("The rebels defeated the army" from "The army defeated the
    rebels"). A claim in words of its own, in the source's order with one of its clauses moved, or with a phrase
    of the source turned round ("the Donetsk and Lugansk republics" for "the republics of Donetsk and Lugansk")
    is not judged by its order.

    >>> s = "The army defeated the rebels in 1066, after a long siege."
    >>> _reordered("The rebels defeated the army.", s), _reordered("After a long siege, the army defeated the rebels.", s)
    (True, False)
    >>> _reordered("The army beat the rebels.", s), _reordered("The army defeated the rebels.", s)
    (False, False)
    >>> _reordered("He refused the Donetsk and Lugansk republics.", "He refused the republics of Donetsk and Lugansk.")
    False
    """
    mine, written = list(dict.fromkeys(T.stems(claim))), T.stems(source)
    if len(mine) < 2 or not set(mine) <= set(written):
        return False
    if any(_subsequence(mine, T.stems(" ".join(order))) for order in _orders(source)):
        return False  # in the source's order, as written or with a clause moved
    return _exchanged([written.index(w) for w in mine])


def _exchanged(at: list[int]) -> bool:
    """Whether positions `at` are in order but for two runs that have traded places around a third.

    >>> _exchanged([2, 1, 0]), _exchanged([0, 4, 5, 3, 1, 2, 6]), _exchanged([1, 2, 0]), _exchanged([0, 2, 1])
    (True, True, False, False)
    """
    rank = {p: r for r, p in enumerate(sorted(at))}
    r = [rank[p] for p in at]
    i, j = 0, len(r)
    while i < j and r[i] == i:
        i += 1
    while j > i and r[j - 1] == j - 1:
        j -= 1
    runs: list[list[int]] = []
    for x in r[i:j]:
        if runs and x == runs[-1][-1] + 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    return len(runs) == 3 and runs[2][0] == i and runs[1][0] == runs[2][-1] + 1 and runs[0][0] == runs[1][-1] + 1


def _orders(source: str) -> list[list[str]]:
    """The source's clauses as written, and with one of them moved to the front or to the end."""
    parts = [p for p in PARTS.split(source) if p.strip()]
    orders = [parts] + [parts[:i] + parts[i + 1 :] + [p] for i, p in enumerate(parts)]
    return orders + [[p] + parts[:i] + parts[i + 1 :] for i, p in enumerate(parts)]


def _subsequence(wanted: list[str], words: list[str]) -> bool:
    """Whether `wanted` appear in `words` in their order (others may come between)."""
    rest = iter(words)
    return all(w in rest for w in wanted)


NUMBER_WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
NUMBER_WORDS |= {w: "" for w in "twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion dozen".split()}


def _number_words_kept(claim: str, source: str) -> bool:
    """Every number the claim spells out (two, five-nation, thousand; not "one") is in the source, as a word or in
    digits.

    >>> _number_words_kept("The two-nation union met.", "The two-nation union met."), _number_words_kept("Five came.", "5 came.")
    (True, True)
    >>> _number_words_kept("The thousand-nation union met.", "The five-nation union met.")
    False
    """
    words, digits = set(T.words(source.replace("-", " "))), T.numbers(source)
    spelt = [w for w in T.words(claim.replace("-", " ")) if w in NUMBER_WORDS and w != "one"]
    return all(w in words or NUMBER_WORDS[w] in digits for w in spelt)


def substituted(claim: str, source: str) -> bool:
    """Whether a name of `claim` stands where `source` has another: a name, spelt any way, that the source lacks,
    next to the same word as a name the claim lacks ("Ukraine has ..." against "Kazakhstan has ...").

    >>> substituted("Ukraine has the longest border.", "Kazakhstan has the longest border.")
    True
    >>> substituted("Tokaev came.", "Tokayev came."), substituted("He met Putin.", "Tokayev met Putin in May.")
    (False, False)
    >>> substituted("Russian troops came to Almaty.", "Troops from Russia came to Almaty.")
    False
    >>> substituted("France won the Final in 2018.", "In the 2018 FIFA final, France won.")
    False
    """
    mine, theirs, written = _slots(claim), _slots(source), set(T.words(source))
    extra = [(w, at) for w, at in mine if w.lower() not in written
             and not any(names.key(w) == names.key(o) or _demonym(w, [o]) for o, _ in theirs)]
    lacking = [(w, at) for w, at in theirs if not any(names.key(w) == names.key(o) or _demonym(w, [o]) for o, _ in mine)]
    return any(x and x == y for _, a in extra for _, b in lacking for x, y in zip(a, b))


def _slots(text: str) -> list[tuple[str, tuple[str, str]]]:
    """The capitalised names of `text` (not common words), each with the words before and after it."""
    words = T.WORD.findall(text)
    return [(w, (words[i - 1].lower() if i else "", words[i + 1].lower() if i + 1 < len(words) else ""))
            for i, w in enumerate(words) if w[:1].isupper() and w.lower() not in T.STOPWORDS]


def _demonym(word: str, others: Iterable[str]) -> bool:
    """Whether `word` is another form of one of `others` (Russia, Russian, Russians)."""
    stems = {s for o in others for s in T.stems(o)}
    return any(s in stems or T.variant(s, stems) for s in T.stems(word))


def capitalised(text: str) -> list[str]:
    """The capitalised words of `text` that are not common words, the first one too."""
    return [w for w in T.WORD.findall(text) if w[:1].isupper() and w.lower() not in T.STOPWORDS]


def facts_present(sentence: str, paragraph: str) -> bool:
    """Every number and capitalised name of the sentence also appears in the paragraph, spelt any way
    (`text.names`); the first word too, unless it is a common word.

    >>> p = "Tokayev asked Russia to send forces."
    >>> facts_present("Tokaev asked Russia for forces.", p), facts_present("Putin asked Russia for forces.", p)
    (True, False)
    >>> facts_present("They asked Russia for forces.", p), facts_present("Tokayev asked for 300 troops.", p)
    (True, False)

    A name may stand as its initials or its plural ("the CSTO" for "the Collective Security Treaty Organization",
    "Kazakhs" for "Kazakh"):

    >>> facts_present("The CSTO sent Kazakhs.", "The Collective Security Treaty Organization sent Kazakh units.")
    True
    """
    if not T.numbers(sentence) <= T.numbers(paragraph):
        return False
    para, stems, initials = set(T.words(paragraph)), set(T.stems(paragraph)), T.acronyms(paragraph)
    keys = {names.key(w) for w in T.WORD.findall(paragraph)}
    tokens = T.WORD.findall(sentence)
    first = tokens[:1] if tokens and tokens[0].lower() not in T.STOPWORDS and tokens[0].lower() not in para else []
    asked = first + [w for w in tokens[1:] if w[:1].isupper()]
    return all(set(T.words(w)) <= para or names.key(w) in keys or set(T.stems(w)) <= stems
               or (w.isupper() and w.lower() in initials) for w in asked)
