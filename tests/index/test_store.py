"""The store interface, the same tests against both stores: FAISS + bm25s in the process, and Milvus Lite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import index
from rag.answer import pipeline
from rag.answer.retrieve import Filter
from rag.config import Settings
from rag.errors import StoreError
from rag.index import store
from rag.index.store.milvus import Milvus

TEXTS = {
    "k-ferry": "The ferry to the island runs twice a day in summer.",
    "k-bridge": "The new bridge over the river opened to cars in May.",
    "k-water": "Water use in the valley fell by nine percent last year.",
    "k-school": "The village school will add two classrooms next autumn.",
    "k-cafe": "The café in Besançon reopened with a terrace.",
}


def _vectors(n: int, dim: int = 8) -> np.ndarray:
    v = np.random.default_rng(7).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(params=["faiss", "milvus"])
def filled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[store.Store, list[str], np.ndarray]]:
    keys, texts, vectors = list(TEXTS), list(TEXTS.values()), _vectors(len(TEXTS))
    found: store.Store
    if request.param == "faiss":
        found = store.Local.build(keys, texts, vectors)
    else:
        found = Milvus(str(tmp_path / "m.db"), "paragraphs", vectors.shape[1], keys)
        found.add(keys, texts, vectors)
    yield found, keys, vectors


def test_dense_finds_a_paragraph_by_its_own_vector(filled: tuple[store.Store, list[str], np.ndarray]) -> None:
    st, keys, vectors = filled
    for row in range(len(keys)):
        assert st.dense(vectors[row], 2)[0] == row


def test_lexical_ranks_by_words_and_finds_nothing_for_unknown_words(filled: tuple[store.Store, list[str], np.ndarray]) -> None:
    st, keys, _ = filled
    assert st.lexical("bridge cars river", 3)[0] == keys.index("k-bridge")
    assert st.lexical("zeppelin", 3) == []
    assert st.lexical("cafe Besancon", 3) == [keys.index("k-cafe")]  # accents folded on both sides


def test_fused_puts_what_both_agree_on_first(filled: tuple[store.Store, list[str], np.ndarray]) -> None:
    st, keys, vectors = filled
    row = keys.index("k-water")
    fused = st.fused(vectors[row], "water use fell", 3)
    assert fused[0][0] == row and fused[0][1] > fused[-1][1]


def test_add_delete_and_get_by_key(filled: tuple[store.Store, list[str], np.ndarray]) -> None:
    st, keys, vectors = filled
    assert st.keys() == set(keys)
    assert np.allclose(st.get(["k-ferry"])["k-ferry"], vectors[0], atol=1e-5)
    st.delete(["k-ferry"])
    assert st.keys() == set(keys) - {"k-ferry"} and st.get(["k-ferry"]) == {}
    st.add(["k-ferry"], [TEXTS["k-ferry"]], vectors[:1])
    assert st.keys() == set(keys)


def test_an_unreachable_milvus_is_a_clear_error_not_a_hang() -> None:
    with pytest.raises(StoreError, match="Milvus at http://127.0.0.1:9 cannot be used"):
        Milvus("http://127.0.0.1:9", "paragraphs", 8)


def test_seeds_answer_the_same_from_milvus(settings: Settings, tmp_path: Path) -> None:
    question = "Which countries sent units to the CSTO force in Kazakhstan?"
    default = pipeline.build(settings).ask(question)
    on_milvus = pipeline.build(settings.model_copy(update={"store": "milvus", "index_dir": tmp_path / "ix"}))
    answer = on_milvus.ask(question)
    assert on_milvus.retriever.index.manifest["store"]["name"] == "milvus"
    assert answer.answer == default.answer and [c.quote for c in answer.citations] == [c.quote for c in default.citations]
    kept = Filter.of(sources=["003_*", "004_*"])  # the best paragraphs are in 001_: filtered inside Milvus's search
    hits = on_milvus.search(question, 4, kept)
    assert len(hits) == 4 and all(h.paragraph.source[:3] in ("003", "004") for h in hits)


def test_milvus_index_updates_by_paragraph_hash(settings: Settings, corpus_copy: Path, tmp_path: Path) -> None:
    from rag.index import embed

    where = index.Where("milvus")
    embedder = embed.load()
    index.build(corpus_copy, tmp_path / "ix", embedder, where=where)
    first = index.load(tmp_path / "ix", where=where)
    (corpus_copy / "extra.txt").write_text("Harbour news\n\nThe harbour of Northport was dredged this spring so that "
                                           "larger ships can come in at low tide, the port authority said.\n")
    report = index.build(corpus_copy, tmp_path / "ix", embedder, where=where)
    ix = index.load(tmp_path / "ix", where=where)
    assert report.embedded == 1 and ix.store.keys() == set(ix.store.rows) and len(ix.store.keys()) == len(first.paragraphs) + 1
    (corpus_copy / "extra.txt").unlink()
    index.build(corpus_copy, tmp_path / "ix", embedder, where=where)
    assert len(index.load(tmp_path / "ix", where=where).store.keys()) == len(first.paragraphs)


def test_a_milvus_that_goes_away_is_a_502_with_a_message(settings: Settings, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from rag.serve import api

    s = settings.model_copy(update={"store": "milvus", "index_dir": tmp_path / "ix"})
    p = pipeline.build(s)
    with TestClient(api.create_app(s, p)) as client:
        assert client.post("/search", json={"question": "CSTO force"}).status_code == 200
        p.retriever.index.store.client.close()  # the connection to Milvus is gone
        r = client.post("/ask", json={"question": "Which countries sent units to the CSTO force?"})
        assert r.status_code == 502 and r.json()["detail"].startswith("Milvus at ")


def test_rows_select_inside_the_search_before_the_top_k(filled: tuple[store.Store, list[str], np.ndarray]) -> None:
    st, keys, vectors = filled
    rows = np.array([keys.index("k-school"), keys.index("k-cafe")])
    row = keys.index("k-water")  # the best match overall, outside the selection
    assert sorted(st.dense(vectors[row], 2, rows)) == sorted(rows.tolist())
    assert st.lexical("water valley school", 2, rows) == [keys.index("k-school")]
    assert {i for i, _ in st.fused(vectors[row], "water use fell", 3, rows)} <= set(rows.tolist())


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_faiss_keeps_k_rows_of_a_narrow_selection(kind: str) -> None:
    v = _vectors(2000, 16)
    st = store.Local.build([str(i) for i in range(2000)], [f"w{i % 7}" for i in range(2000)], v, kind)
    rows = np.arange(0, 2000, 101)
    found = st.dense(v[5], 10, rows)
    assert len(found) == 10 and set(found) <= set(rows.tolist())
