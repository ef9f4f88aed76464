from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import index
from rag.errors import IndexError_
from rag.index import embed, store


def test_rebuild_is_incremental_and_ids_are_stable(corpus_copy: Path, tmp_path: Path, embedder: embed.SentenceTransformerEmbedder) -> None:
    ix = tmp_path / "ix"
    first = index.build(corpus_copy, ix, embedder)
    assert first.embedded == first.paragraphs > 40
    ids = [p.id for p in index.load(ix).paragraphs]
    again = index.build(corpus_copy, ix, embedder)
    assert again.embedded == 0 and [p.id for p in index.load(ix).paragraphs] == ids
    f = corpus_copy / "004_1ab97ee52b3e3350.txt"
    f.write_text(f.read_text().replace("nearly 100,000 Russians", "nearly 120,000 Russians"))
    assert index.status(corpus_copy, ix, embedder.name) == "stale"
    changed = index.build(corpus_copy, ix, embedder)
    assert changed.embedded == 1 and changed.reused == first.paragraphs - 1


def test_corrupt_index_is_refused_with_a_message(seeds_index: Path, tmp_path: Path) -> None:
    import shutil

    ix = tmp_path / "copy"
    shutil.copytree(seeds_index, ix)
    build = ix / (ix / "CURRENT").read_text().strip()
    data = bytearray((build / "embeddings.npy").read_bytes())
    data[-10] ^= 0xFF
    (build / "embeddings.npy").write_bytes(bytes(data))
    with pytest.raises(IndexError_, match="corrupt.*rag index"):
        index.load(ix)


def test_index_of_another_model_is_refused(seeds_index: Path) -> None:
    with pytest.raises(IndexError_, match="built with all-MiniLM-L6-v2"):
        index.load(seeds_index, "other-model", 768)


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match="run `rag index`"):
        index.load(tmp_path)


def test_manifest_records_what_was_built(seeds_index: Path) -> None:
    build = seeds_index / (seeds_index / "CURRENT").read_text().strip()
    m = json.loads((build / "manifest.json").read_text())
    assert m["model"] == "all-MiniLM-L6-v2" and m["dim"] == 384 and m["paragraphs"] > 40
    assert set(m["files"]) == {p.name for p in Path(m["corpus_dir"]).glob("*.txt")}
    assert "embeddings.npy" in m["checksums"] and "sentence-transformers" in m["versions"]


def test_an_index_built_from_other_word_tokens_is_stale(seeds_index: Path, tmp_path: Path) -> None:
    import shutil

    from rag import text as T

    ix = tmp_path / "copy"
    shutil.copytree(seeds_index, ix)
    manifest = ix / (ix / "CURRENT").read_text().strip() / "manifest.json"
    m = json.loads(manifest.read_text())
    corpus = Path(m["corpus_dir"])
    assert m["tokens"] == T.TOKENS and index.status(corpus, ix, m["model"]) == "fresh"
    manifest.write_text(json.dumps({**m, "tokens": T.TOKENS - 1}))
    assert index.status(corpus, ix, m["model"]) == "stale"


def test_auto_kind_switches_to_ivf_and_ivf_finds_what_flat_finds(tmp_path: Path) -> None:
    import faiss
    import numpy as np

    assert store.choose_kind("auto", 50_000) == "flat" and store.choose_kind("auto", 150_000) == "ivf"
    assert store.choose_kind("ivf", 10) == "flat"
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((50, 384)).astype(np.float32)
    x = centres[rng.integers(0, 50, 20_000)] + 0.5 * rng.standard_normal((20_000, 384)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    faiss.write_index(store.faiss_index(x, "ivf"), str(tmp_path / "ivf.index"))
    ivf = store.read_faiss(tmp_path / "ivf.index")
    assert ivf.nprobe == store.IVF_NPROBE
    q = x[:50]
    exact = store.faiss_index(x, "flat").search(q, 10)[1]
    found = ivf.search(q, 10)[1]
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact)]) > 0.9
