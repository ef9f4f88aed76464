"""ALCE-style citation support (Gao et al. 2023), judged by the learned consistency checker rather than taken from
the verification an answer went through: whether the paragraphs a sentence cites, and only they, support it when
checked as RAG_VERIFY=learned checks (similarity, numbers and names, then the trained checker of
rag/models/checker/; a verbatim quote needs no checker).

Per cited sentence, whether its citations together support it (ALCE's citation recall, over cited sentences);
per citation, whether it is needed (ALCE's citation precision): a citation of a supported sentence counts when
its paragraph alone supports the sentence, or when the sentence's other citations do not.
"""

from __future__ import annotations

from typing import Any

from rag.answer import verify as V
from rag.answer.checker import Embed
from rag.answer.retrieve import Hit
from rag.ingest.corpus import Paragraph

CHECKER = "learned"  # the checker that judges support (`checker.MODES`)


def supports(sentence: str, passages: list[str], embed: Embed) -> bool:
    """Whether the learned checker's verification accepts `sentence` citing `passages`, and no other passage."""
    if not passages:
        return False
    hits = [Hit(Paragraph(f"cited#p{n}", "cited", "", 0, len(t), t), 1.0) for n, t in enumerate(passages, 1)]
    v = V.verify(V.with_markers(sentence, list(range(1, len(hits) + 1))), hits, embed, "", CHECKER)
    return bool(v.claims) and all(c.supported for c in v.claims)


def needed(sentence: str, passages: list[str], embed: Embed) -> list[bool]:
    """For each of the passages that together support `sentence`, whether it is needed (ALCE's precision rule)."""
    if len(passages) == 1:
        return [True]
    return [supports(sentence, [p], embed) or not supports(sentence, [q for q in passages if q != p], embed)
            for p in passages]


def of(answer: dict[str, Any], embed: Embed) -> list[tuple[bool, list[bool]]]:
    """For each cited sentence of `answer` (`Answer.to_dict()`): whether its citations support it, and for each
    paragraph it cites whether that citation is needed (none is, for a sentence they do not support)."""
    texts = {p["id"]: p["text"] for p in answer.get("passages", [])}
    cited = {c["marker"]: texts.get(c["id"], "") for c in answer.get("citations", [])}
    out = []
    for claim in answer.get("claims", []):
        passages = list(dict.fromkeys(cited[m] for m in claim["markers"] if cited.get(m)))
        if not passages:
            continue
        ok = supports(claim["text"], passages, embed)
        out.append((ok, needed(claim["text"], passages, embed) if ok else [False] * len(passages)))
    return out
