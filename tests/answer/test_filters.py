"""Filters by date and source: applied inside the search, before the top k are taken."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer.pipeline import Pipeline
from rag.answer.retrieve import Filter, Retriever
from rag.errors import InputError

QUESTION = "Which countries sent units to the CSTO force in Kazakhstan?"


def dated(pipe: Pipeline) -> Retriever:
    """A retriever over the seeds with a date for each document: 2022-01-0n for the n-th."""
    ix = pipe.retriever.index
    documents = {name: {**d, "date": f"2022-01-0{n + 1}"} for n, (name, d) in enumerate(sorted(ix.documents.items()))}
    return Retriever(replace(ix, documents=documents), pipe.retriever.embed)


def test_a_source_filter_returns_k_hits_of_the_kept_documents_only(pipe: Pipeline) -> None:
    overall = pipe.search(QUESTION, 5)
    best = overall[0].paragraph.source
    others = sorted({name for name in pipe.retriever.index.documents if name != best})
    hits = pipe.search(QUESTION, 5, Filter.of(sources=others[:2]))
    assert len(hits) == 5 and {h.paragraph.source for h in hits} <= set(others[:2])


def test_a_glob_keeps_the_documents_it_names(pipe: Pipeline) -> None:
    hits = pipe.search(QUESTION, 3, Filter.of(sources=["00[34]_*"]))
    assert hits and all(h.paragraph.source[:3] in ("003", "004") for h in hits)


def test_dates_keep_the_documents_in_the_range(pipe: Pipeline) -> None:
    r = dated(pipe)
    docs = r.index.documents
    hits = r.search(QUESTION, 5, filters=Filter.of("2022-01-02", "2022-01-03"))
    assert len(hits) == 5 and {docs[h.paragraph.source]["date"] for h in hits} <= {"2022-01-02", "2022-01-03"}


def test_a_filter_that_keeps_nothing_says_so(pipe: Pipeline) -> None:
    with pytest.raises(InputError, match=r"^no document matches the filters: sources nothing-\*"):
        pipe.search(QUESTION, 5, Filter.of(sources=["nothing-*"]))
    with pytest.raises(InputError, match="no document matches the filters: from 2030-01-01"):
        pipe.ask(QUESTION, filters=Filter.of("2030-01-01"))  # the seeds have no dates: a date filter keeps none


@pytest.mark.parametrize("since,until", [("2022-13-01", ""), ("yesterday", ""), ("", "2022-1-5"), ("2022-02-01", "2022-01-01")])
def test_a_bad_date_is_an_input_error(since: str, until: str) -> None:
    with pytest.raises(InputError, match="date"):
        Filter.of(since, until)


def test_an_empty_filter_filters_nothing(pipe: Pipeline) -> None:
    assert not Filter.of("", None, [""])
    assert [h.paragraph.id for h in pipe.search(QUESTION, 5, Filter.of())] == [h.paragraph.id for h in pipe.search(QUESTION, 5)]


def test_ask_and_check_cite_only_the_kept_documents(pipe: Pipeline) -> None:
    from rag.answer import check

    kept = sorted(pipe.retriever.index.documents)[1:3]
    answer = pipe.ask(QUESTION, filters=Filter.of(sources=kept))
    assert {p["source"] for p in answer.passages} <= set(kept) and {c.source for c in answer.citations} <= set(kept)
    checked = check.check(pipe, "Kazakhstan borders Russia. Russia sent troops.", 3, Filter.of(sources=kept))
    assert all(c.source in kept for s in checked.sentences for c in s.citations)
    with pytest.raises(InputError, match="no document matches"):
        check.check(pipe, "Kazakhstan borders Russia.", 3, Filter.of(sources=["none"]))
