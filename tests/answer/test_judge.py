"""`RAG_VERIFY=model`: the model as judge of whether a cited passage states a sentence, failing closed."""

from __future__ import annotations

import pytest

from rag.answer import judge
from rag.answer import verify as V
from rag.answer.llm import OpenAICompatible
from rag.config import Settings
from tests.answer.test_local_server import needs_model
from tests.conftest import free_port, hit

PASSAGE = ("On Wednesday, President Kassym-Jomart Tokayev asked the Collective Security Treaty Organization (CSTO), "
           "a Russia-led military alliance, to send troops to help quell the unrest.")


def _verified(claim: str) -> V.Verified:
    c = V.Citation(1, "a.txt#p1", "a.txt", 0, len(PASSAGE), PASSAGE, True, 0.9)
    return V.Verified(f"{claim} [1]", [c], [V.Claim(claim, (1,), True)], [])


def test_a_model_that_cannot_be_reached_fails_closed(settings: Settings) -> None:
    dead = OpenAICompatible("x", settings.prompts_dir, f"http://127.0.0.1:{free_port()}/v1", "", 2.0, 0)
    ok, note = judge.ModelJudge(dead).states("Tokayev asked the CSTO for troops.", PASSAGE)
    assert not ok and "could not judge" in note
    out = judge.ModelJudge(dead).judged(_verified("Tokayev asked the CSTO for troops."), [hit("a.txt#p1", PASSAGE)])
    assert not out.claims[0].supported and not out.citations[0].supported and any("could not judge" in n for n in out.notes)


def test_a_verbatim_quote_is_not_sent(settings: Settings) -> None:
    dead = OpenAICompatible("x", settings.prompts_dir, f"http://127.0.0.1:{free_port()}/v1", "", 2.0, 0)
    out = judge.ModelJudge(dead).judged(_verified(PASSAGE), [hit("a.txt#p1", PASSAGE)])
    assert out.claims[0].supported and not out.notes


@needs_model
@pytest.mark.slow
def test_the_local_model_judges_with_a_constrained_reply(settings: Settings) -> None:
    from rag.answer import local_server

    server = local_server.server(settings.model_path, settings.llm_threads, settings.llm_context, settings.llm_parallel)
    j = judge.ModelJudge(OpenAICompatible("local", settings.prompts_dir, server.base_url, "", 120.0, 0, server.name))
    assert j.states("Tokayev asked the CSTO to send troops.", PASSAGE) == (True, "")
    assert j.states("Tokayev did not ask the CSTO for troops.", PASSAGE) == (False, "")
    out = j.judged(_verified("Tokayev asked the CSTO to send troops because of rising fuel prices."), [hit("a.txt#p1", PASSAGE)])
    assert not out.claims[0].supported and any("does not find" in n for n in out.notes)


def test_the_setting_reaches_the_pipeline(settings: Settings) -> None:
    from rag.answer import pipeline
    from rag.errors import InputError

    with pytest.raises(InputError, match="RAG_VERIFY=model needs a model"):
        pipeline.build(settings.model_copy(update={"verify": "model"}))
    with pytest.raises(InputError, match="unknown RAG_VERIFY 'maybe'"):
        pipeline.build(settings.model_copy(update={"verify": "maybe"}))
    learned = pipeline.build(settings.model_copy(update={"verify": "learned"}))
    assert learned.checks == "learned" and learned.judge is None


@needs_model
@pytest.mark.slow
def test_rag_check_asks_the_local_model(settings: Settings) -> None:
    from rag.answer import check, pipeline

    pipe = pipeline.build(settings.model_copy(update={"llm": "local", "verify": "model"}))
    assert pipe.checks == "rules" and pipe.judge is not None
    said = check.check(pipe, "Tokayev called for peace. Tokayev did not call for peace.")
    assert [s.supported for s in said.sentences] == [True, False]
