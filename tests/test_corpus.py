from __future__ import annotations

from pathlib import Path

from rag import corpus
from tests.conftest import SEEDS


def test_every_span_is_verbatim() -> None:
    c = corpus.read_folder(SEEDS)
    assert len(c.documents) == 5
    for d in c.documents:
        raw = (SEEDS / d.name).read_bytes().decode("utf-8")
        for p in d.paragraphs:
            assert raw[p.start : p.end] == p.text


def test_latest_news_and_page_debris_are_dropped() -> None:
    text = " ".join(p.text for p in corpus.read_folder(SEEDS).paragraphs)
    for debris in ["Latest news", "KazTransOil to Boost", "Kcell Receives", "Related articles", "Borrell",
                   "minerals deal", "Post a Comment", "Leave a Reply", "Translate", "Wikimedia",
                   "Democracy Diplomatic Economy", "Picture: President", "watch the video", "Original Author"]:
        assert debris not in text, debris


def test_article_001_appears_once() -> None:
    doc = next(d for d in corpus.read_folder(SEEDS).documents if d.name.startswith("001"))
    hits = [p for p in doc.paragraphs if "units from Belarus, Armenia" in p.text]
    assert len(hits) == 1
    assert all(len(p.text) <= corpus.MAX_CHARS for p in doc.paragraphs)
    assert doc.title.startswith("kmiainfo: Kazakhstan is the second Ukraine")


def test_short_fragment_joins_its_neighbour() -> None:
    doc = next(d for d in corpus.read_folder(SEEDS).documents if d.name.startswith("000"))
    assert not any(p.text == "Shibutov stated." for p in doc.paragraphs)
    assert any(p.text.endswith("Shibutov stated.") for p in doc.paragraphs)


def test_bad_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Title\n\nAn article paragraph that is long enough to stand alone here.\n")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait and more words".encode("latin-1"))
    (tmp_path / "binary.md").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "empty.txt").write_text("")
    c = corpus.read_folder(tmp_path)
    assert [d.name for d in c.documents] == ["good.txt"]
    problems = " ".join(c.problems)
    assert "latin1.txt: not valid UTF-8" in problems and "binary.md: binary" in problems and "empty.txt" in problems
