"""`RAG_VERIFY=model`: the configured model asked whether each cited passage states the sentence that cites it.

A second opinion on top of the checks that stay (`verify`): a sentence those accept is kept only when the model,
shown the cited passage and the sentence, replies that the passage states it. The reply is constrained by a JSON
schema (llama.cpp turns it into a grammar; OpenAI-compatible servers that take `response_format` follow it), and
the check fails closed: a reply that is not exactly yes, a model that cannot be reached or answers late, is a
"no", with a note saying why. A quote the passage holds word for word needs no opinion and is not sent.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from typing import Any

from rag.answer import prompts
from rag.answer import verify as V
from rag.answer.retrieve import Hit

SCHEMA = {"type": "object", "properties": {"stated": {"type": "string", "enum": ["yes", "no"]}},
          "required": ["stated"], "additionalProperties": False}
FORMAT = {"type": "json_schema", "json_schema": {"name": "verdict", "strict": True, "schema": SCHEMA}}
SYSTEM = "You check claims against passages. You reply only with the JSON object asked for."


class ModelJudge:
    """Asks `llm` (an `llm.OpenAICompatible`) whether passages state claims."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm

    def states(self, claim: str, passage: str) -> tuple[bool, str]:
        """Whether the model says `passage` states `claim`, and a note when it could not be asked or answered oddly."""
        text = prompts.render(self.llm.prompts_dir, "verify", passage=prompts.quote(passage), claim=prompts.quote(claim))
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]
        try:
            reply = self.llm.client.chat.completions.create(model=self.llm.model, messages=messages, temperature=0,
                                                            max_tokens=16, response_format=FORMAT)
            said = reply.choices[0].message.content or ""
        except Exception as e:  # every failure of the model server is a "no": the check fails closed
            return False, f"the model could not judge a sentence ({type(e).__name__}): it counts as unsupported"
        return _verdict(said)

    def judged(self, verified: V.Verified, hits: list[Hit]) -> V.Verified:
        """`verified` with every accepted sentence the model does not see stated in its cited passages unsupported."""
        by_marker = {c.marker: c for c in verified.citations}
        passages = {h.paragraph.id: h.paragraph.text for h in hits}
        claims, notes, refuted = [], list(verified.notes), set[int]()
        for claim in verified.claims:
            cited = [by_marker[m] for m in claim.markers if m in by_marker and by_marker[m].supported]
            if not claim.supported or all(V.quoted_verbatim(claim.text, passages.get(c.id, "")) for c in cited):
                claims.append(claim)
                continue
            verdicts = [self.states(claim.text, passages.get(c.id, c.quote)) for c in cited]
            notes += [note for _, note in verdicts if note]
            if all(ok for ok, _ in verdicts):
                claims.append(claim)
                continue
            refuted |= {c.marker for c in cited}
            notes.append(f"the model does not find {textwrap.shorten(claim.text, 60, placeholder='...')!r} stated in its cited passage")
            claims.append(replace(claim, supported=False))
        citations = [replace(c, supported=False) if c.marker in refuted else c for c in verified.citations]
        return replace(verified, claims=claims, citations=citations, notes=notes)


def _verdict(said: str) -> tuple[bool, str]:
    """The model's reply read strictly: {"stated": "yes"} is a yes; anything else a no, noted when malformed.

    >>> _verdict('{"stated": "yes"}'), _verdict('{"stated": "no"}')[0], _verdict("Yes.")[0]
    ((True, ''), False, False)
    """
    try:
        value = json.loads(said).get("stated")
    except (ValueError, AttributeError):
        return False, "the model's verdict was not the JSON asked for: the sentence counts as unsupported"
    return value == "yes", "" if value in ("yes", "no") else "the model's verdict was neither yes nor no"

