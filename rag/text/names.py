"""Make one name match across its transliterations: Tokayev ~ Tokaev ~ Toqayev ~ Tokajev ~ Tokayew.

Two general mechanisms, no list of names:

* `key(word)`: a transliteration key. The spelling is folded to a few sounds, so that the
  systems used for Russian, Ukrainian and Kazakh names (English, BGN/PCGN, German, Polish,
  passport, Kazakh Latin) give one key. Uppercase letters in a key are one-symbol sounds:
  S = sh/shch, C = ch/tch, J = zh/j/dj/dzh, X = kh, Z = ts/tz, T = final th, O = -ov/-ev/-iv.
* `same_name(a, b)`: equal keys, or, for words of at least `MIN_FUZZY` letters, a rapidfuzz
  ratio of the keys of at least `THRESHOLD` when the keys also begin and end alike
  (transliteration changes the inside of a name; a changed first or last letter is another
  word: Russia/Prussia, Russia/Russian, Alexander/Alexandra).

`variants(word)` goes the other way (plausible other spellings of a name, by rule) and
`respell(question)` uses it to write a respelled copy of a question, for tests.
The rules and the threshold are measured in RESULTS.md (made by measure.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

from rapidfuzz.fuzz import ratio

THRESHOLD = 84.0  # rapidfuzz ratio (0-100) of two keys; chosen on RealTime QA words by measure.py
MIN_FUZZY = 8  # letters both words need before the fuzzy match is tried; chosen likewise

_V = "aeiou"
_EXTRA = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "ı": "i", "æ": "ae", "œ": "oe"})

# Key rules, applied in this order to a lower-cased, accent-folded word.
# 1. Glide j (German/Polish/Serbian) is y: Tokajev, Nazarbajew, and final after 3 letters: Sergej,
#    Dmitrij (not Raj, Maj). Initial ye is e (Yevgeny/Evgeny, Yerevan/Erevan; also Yellen/Ellen).
_GLIDE = re.compile(rf"(?<=[{_V}y])j(?=e)|(?<=[a-z]{{2}}[{_V}y])j$")
_YE = re.compile(r"^ye")
# 2. Letter groups that spell one sound, longest first; c is s before e/i/y, else k; th is t
#    (Anthony/Antony, Theresa/Teresa) but T at the end (Heath/Heat, Seth/Set stay apart).
_GROUPS = {
    "shch": "S", "dzh": "J", "tch": "C", "sh": "S", "ch": "C", "zh": "J", "dj": "J", "kh": "X",
    "ts": "Z", "tz": "Z", "ph": "f", "th": "t", "gh": "g", "ck": "k", "x": "ks", "q": "k",
    "j": "J", "c": "k", "ce": "se", "ci": "si", "cy": "sy",
}
_GROUP = re.compile("|".join(sorted(_GROUPS, key=len, reverse=True)))
_TH = re.compile("th$")
# 3. After y -> i: Ukrainian h before a vowel is Russian g (Luhansk/Lugansk, Olha/Olga), but not
#    first (Harris); an i between vowels is a glide (Tokaiev/Tokaev); ie is i (Kiev/Kyiv,
#    Aliev/Aliyev); ii is i (Zelenskyy); doubled consonants collapse when 5 letters are left
#    (Kassym/Kasym, but Bar/Barr, Man/Mann stay); other doubled vowels stay (Good/God, Reed/Red).
_H = re.compile(rf"(?<=.)h(?=[{_V}])")
_I = re.compile(rf"(?<=[{_V}])i(?=[{_V}])")
_IE = re.compile(rf"ie(?=[^{_V}])")  # not final: Julie/July, Marie/Mary stay apart
_II = re.compile("ii+")
_DOUBLE = re.compile(r"([^aeiou])\1+")
# 4. In a key of 5 letters or more, final -ov/-ev/-iv and the German/Polish -ow/-ew are one
#    ending (Kharkiv/Kharkov, Gorbachev/Gorbachov, Tokayev/Tokayew); not in New/Now/Nov.
_OV = re.compile(r"[eio]v$|[eo]w$")


def fold(word: str) -> str:
    """`word` lower-cased, accents folded (as `rag.text.fold` does, and ł ø ß too).

    >>> fold("Łódź Tokaýev")
    'lodz tokayev'
    """
    word = word.lower()
    if word.isascii():
        return word
    word = word.translate(_EXTRA)
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _part_key(part: str) -> str:
    """The key of one hyphen-free part of a word (see `key`)."""
    p = _YE.sub("e", _GLIDE.sub("y", part))
    p = _GROUP.sub(lambda m: _GROUPS[m.group()], _TH.sub("T", p)).replace("y", "i")
    p = _IE.sub("i", _I.sub("", _H.sub("g", p)))
    p = _II.sub("i", p)
    single = _DOUBLE.sub(r"\1", p)
    p = single if len(single) >= 5 else p
    return _OV.sub("Ov", p) if len(p) >= 5 else p


@lru_cache(maxsize=200_000)
def key(word: str) -> str:
    """The transliteration key of one word; hyphenated parts are keyed one by one and joined
    (Nur-Sultan = Nursultan).

    >>> [key(w) for w in ("Tokayev", "Tokaev", "Toqayev", "Tokajev", "Tokayew")]
    ['tokaOv', 'tokaOv', 'tokaOv', 'tokaOv', 'tokaOv']
    >>> key("Kassym-Jomart"), key("Kasym-Zhomart"), key("Luhansk"), key("Lugansk")
    ('kasimJomart', 'kasimJomart', 'lugansk', 'lugansk')
    >>> key("Kyiv") == key("Kiev"), key("Zelenskyy") == key("Zelenskiy"), key("Iran") == key("Iraq")
    (True, True, False)
    """
    w = re.sub(r"['’]s$", "", fold(word))
    return "".join(_part_key(re.sub(r"[^a-z]", "", p)) for p in w.split("-"))


def _letters(word: str) -> int:
    """How many letters `word` has."""
    return sum(c.isalpha() for c in word)


_SKELETON = str.maketrans("Xg", "hh", _V)  # consonants in order; kh, h and g are one (Rakhmon/Rahmon)


def same_name(a: str, b: str, threshold: float = THRESHOLD, min_letters: int = MIN_FUZZY) -> bool:
    """Whether `a` and `b` are spellings of one name.

    >>> same_name("Nurzhan", "Nurjan"), same_name("Kharkiv", "Kharkov"), same_name("Russia", "Prussia")
    (True, True, False)
    >>> same_name("Severodonetsk", "Sieverodonetsk"), same_name("Austria", "Australia")
    (True, False)
    """
    ka, kb = key(a), key(b)
    if ka == kb:
        return True
    if min(_letters(a), _letters(b)) < min_letters or ka[0] != kb[0] or ka[-1] != kb[-1]:
        return False
    return ka.translate(_SKELETON) == kb.translate(_SKELETON) and ratio(ka, kb, score_cutoff=threshold) > 0


# Respelling rules: (name, pattern, replacement), on the lower-cased word; the first rules are
# the most telling (they respell Russian and Central Asian names), the last apply to most words.
_E = r"(?![a-z])"  # end of a hyphen part
_RESPELL: tuple[tuple[str, str, str], ...] = (
    ("yev -> ev", rf"(?<=[{_V}])ye(?=v{_E})", "e"),
    ("yev -> jev", rf"(?<=[{_V}])ye(?=v{_E})", "je"),
    ("aev -> ayev", rf"(?<=[aiou])ev{_E}", "yev"),
    ("ov/ev -> ow/ew", rf"(?<=[a-z]{{3}}[eo])v{_E}", "w"),  # 5 letters or more, as in `key`
    ("ka -> qa", r"k(?=[aou])", "q"),
    ("zh -> j", r"zh", "j"),
    ("j -> zh", rf"(?<![d{_V}])j(?=[{_V}])", "zh"),
    ("h -> g", rf"(?<=[{_V}])h(?=[{_V}])", "g"),
    ("g -> h", rf"(?<=[{_V}])g(?=[{_V}])", "h"),
    ("yiv -> iev", rf"yiv{_E}", "iev"),
    ("iv -> ov", rf"(?<=[a-z]{{2}}[^{_V}y])iv{_E}", "ov"),
    ("y -> iy", rf"(?<=[^{_V}])y{_E}", "iy"),
    ("y -> i", rf"(?<=[^{_V}])y{_E}", "i"),
    ("iy -> y", rf"(?<=[^{_V}])(?:iy|yy|ij){_E}", "y"),
    ("i -> y", rf"(?<=[^{_V}])i{_E}", "y"),
    ("ye -> e", r"(?<![a-z])ye", "e"),
    ("e -> ye", rf"(?<![a-z])e(?=[^{_V}])", "ye"),
    ("ai -> ay", rf"(?<=[{_V}])i(?=[^{_V}]|{_E})", "y"),
    ("ay -> ai", rf"(?<=[{_V}])y(?=[^{_V}]|{_E})", "i"),
    ("ss -> s", rf"(?<=[{_V}])ss(?=[{_V}])", "s"),
    ("s -> ss", rf"(?<=[{_V}])(?<!ss)s(?=[{_V}])", "ss"),
    ("x -> ks", r"x(?!h)", "ks"),
    ("ks -> x", r"(?<!c)ks(?!h)", "x"),
    ("y -> i inside", rf"(?<=[^{_V}])y(?=[^{_V}])", "i"),
    ("i -> y inside", rf"(?<=[^{_V}])i(?=[^{_V}y])", "y"),
)
_RULES = tuple((re.compile(p), r) for _, p, r in _RESPELL)
_DOUBLING = {"ss -> s", "s -> ss"}
_GENERIC = {"i -> y inside", "e -> ye"}  # fit almost any English word (Police/Polyce): not for `respell`


def _recase(spelling: str, like: str) -> str:
    """`spelling` with the case of `like`: each hyphen part capitalised where `like`'s is."""
    parts, model = spelling.split("-"), like.split("-")
    if len(parts) != len(model):
        return spelling.capitalize() if like[:1].isupper() else spelling
    return "-".join(p.capitalize() if m[:1].isupper() else p for p, m in zip(parts, model))


@lru_cache(maxsize=20_000)
def _variants(word: str) -> tuple[tuple[str, str], ...]:
    """(rule name, spelling) behind `variants`; the rule of the combined spelling is "all"."""
    if len(word) > 1 and word.isupper():  # an acronym is not spelt out
        return ()
    low = fold(word)
    out: list[tuple[str, str]] = []
    combined = low
    for (name, _, _), (rule, repl) in zip(_RESPELL, _RULES):
        one = rule.sub(repl, low)
        if one == low or (name in _DOUBLING and len(key(min(one, low, key=len))) < 5):
            continue  # `key` collapses double letters only when 5 are left (Bar/Barr differ)
        out.append((name, one))
        step = rule.sub(repl, combined)
        combined = step if key(step) == key(low) else combined  # rules that fight are skipped
    seen = {low}
    kept = [(n, v) for n, v in [*out, ("all", combined)] if not (v in seen or seen.add(v))]  # type: ignore[func-returns-value]
    return tuple((n, _recase(v, word)) for n, v in kept)


def variants(word: str) -> list[str]:
    """Other plausible spellings of `word`: one per rule of `_RESPELL` that applies, then all of
    those rules applied in turn (a step that would change the key, as when one rule undoes or
    spoils another, is skipped). Deterministic, most telling first; none for an acronym.

    >>> variants("Tokayev")[:4]
    ['Tokaev', 'Tokajev', 'Tokayew', 'Toqayev']
    >>> variants("Luhansk"), variants("Kharkiv")[:2]
    (['Lugansk'], ['Kharkov', 'Kharkyv'])
    """
    return [v for _, v in _variants(word)]


# Capitalised words that are ordinary English, not names: `respell` leaves them alone.
STOP = frozenset(
    """what which when where whose whom why how who there their these those this that then than
    with from into over under after before during since while about also does have were said
    according president prime minister king queen prince secretary general chief leader former
    state states united national republic north south east west central city river island people
    party government white house senate congress court supreme world union council
    monday tuesday wednesday thursday friday saturday sunday january february march april june
    july august september october november december week year news last first many most some""".split()
)
_POSSESSIVE = re.compile(r"['’]s$")
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def _respelt(m: re.Match[str]) -> str:
    """The first variant of a capitalised name token, or the token itself."""
    w = m.group()
    stem, tail = (w[:-2], w[-2:]) if re.search(r"['’]s$", w) else (w, "")
    if not stem[:1].isupper() or _letters(stem) < 4 or fold(stem) in STOP:
        return w
    alts = [v for rule, v in _variants(stem) if rule not in _GENERIC]
    return alts[0] + tail if alts else w


def respell(question: str) -> str | None:
    """`question` with each capitalised name (at least 4 letters, not in `STOP`) replaced by its
    first variant from a rule not in `_GENERIC`; None when no word could be respelled.
    Deterministic.

    >>> respell("Who met Kassym-Jomart Tokayev in Luhansk?")
    'Who met Qassym-Jomart Tokaev in Lugansk?'
    >>> respell("What is this?") is None
    True
    """
    out = _TOKEN.sub(_respelt, question)
    return None if out == question else out


WRITTEN = "="  # prefix of a spelling table's entries for the spellings a corpus uses as they are


def spellings(texts: Iterable[str]) -> dict[str, str]:
    """The commonest spelling of each name in `texts`, by key: what a question's spelling is mapped to; and
    under WRITTEN + word, every spelling the texts use, which stays as it is (the corpus writes both the
    city Nur-Sultan and the name Nursultan).

    >>> t = spellings(["Tokayev met Nazarbayev.", "Tokayev spoke.", "Tokajev left."])
    >>> t["tokaOv"], t.get(WRITTEN + "Tokajev"), t.get(WRITTEN + "Tokaev")
    ('Tokayev', 'Tokajev', None)
    """
    counts: Counter[str] = Counter(_POSSESSIVE.sub("", m.group()) for t in texts for m in _TOKEN.finditer(t)
                                   if m.group()[:1].isupper())
    table: dict[str, str] = {}
    for word, _ in counts.most_common():
        if _letters(word) >= 4:
            table.setdefault(key(word), word)
            table[WRITTEN + word] = word
    return table


def to_corpus(question: str, table: Mapping[str, str]) -> str:
    """`question` with each name the corpus spells otherwise written the corpus's way; other words as they are.

    >>> to_corpus("Who is Tokaev?", {"tokaOv": "Tokayev"}), to_corpus("Tokaev's aide", {"tokaOv": "Tokayev"})
    ('Who is Tokayev?', "Tokayev's aide")
    >>> to_corpus("Nursultan Nazarbayev", spellings(["Nur-Sultan, Nur-Sultan.", "Nursultan Nazarbayev"]))
    'Nursultan Nazarbayev'
    """
    def spelt(m: re.Match[str]) -> str:
        w = _POSSESSIVE.sub("", m.group())
        if not w[:1].isupper() or _letters(w) < 4 or fold(w) in STOP or WRITTEN + w in table:
            return m.group()
        return table.get(key(w), w) + m.group()[len(w) :]

    return _TOKEN.sub(spelt, question)
