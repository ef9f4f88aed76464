from __future__ import annotations

import json
from pathlib import Path

from rag.ingest import corpus, readers
from tests.conftest import SEEDS


def test_every_span_is_verbatim() -> None:
    c = readers.read_folder(SEEDS)
    assert len(c.documents) == 5
    for d in c.documents:
        raw = (SEEDS / d.name).read_bytes().decode("utf-8")
        for p in d.paragraphs:
            assert raw[p.start : p.end] == p.text


def test_latest_news_and_page_debris_are_dropped() -> None:
    text = " ".join(p.text for p in readers.read_folder(SEEDS).paragraphs)
    for debris in ["Latest news", "KazTransOil to Boost", "Kcell Receives", "Related articles", "Borrell",
                   "minerals deal", "Post a Comment", "Leave a Reply", "Translate", "Wikimedia",
                   "Democracy Diplomatic Economy", "Picture: President", "watch the video", "Original Author"]:
        assert debris not in text, debris


def test_article_001_appears_once() -> None:
    doc = next(d for d in readers.read_folder(SEEDS).documents if d.name.startswith("001"))
    hits = [p for p in doc.paragraphs if "units from Belarus, Armenia" in p.text]
    assert len(hits) == 1
    assert all(len(p.text) <= corpus.MAX_CHARS for p in doc.paragraphs)
    assert doc.title.startswith("kmiainfo: Kazakhstan is the second Ukraine")


def test_short_fragment_joins_its_neighbour() -> None:
    doc = next(d for d in readers.read_folder(SEEDS).documents if d.name.startswith("000"))
    assert not any(p.text == "Shibutov stated." for p in doc.paragraphs)
    assert any(p.text.endswith("Shibutov stated.") for p in doc.paragraphs)


def test_bad_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Title\n\nAn article paragraph that is long enough to stand alone here.\n")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait and more words".encode("latin-1"))
    (tmp_path / "binary.md").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "empty.txt").write_text("")
    c = readers.read_folder(tmp_path)
    assert [d.name for d in c.documents] == ["good.txt"]
    problems = " ".join(c.problems)
    assert "latin1.txt: not valid UTF-8" in problems and "binary.md: binary" in problems and "empty.txt" in problems


def test_jsonl_documents_become_cited_paragraphs(tmp_path: Path) -> None:
    rows = [
        {"id": "heat-1", "title": "Heat wave", "text": "Paris hit 40 degrees on Monday.\n\nThe city opened cooling rooms.",
         "date": "2024-07-01", "url": "https://example.org/heat"},
        {"id": "rain-2", "title": "Rain", "text": ("Rain fell all week in Lyon. " * 60).strip()},
    ]
    f = tmp_path / "docs.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n" + json.dumps({"id": "heat-1", "text": "again"}) + "\n")
    c = readers.read(f)
    assert [d.name for d in c.documents] == ["heat-1", "rain-2"]
    heat, rain = c.documents
    assert heat.meta == {"date": "2024-07-01", "url": "https://example.org/heat"}
    assert [p.id for p in heat.paragraphs] == ["heat-1#p1"]  # short blocks join
    assert len(rain.paragraphs) == 2 and all(len(p.text) <= corpus.MAX_CHARS for p in rain.paragraphs)
    for d in c.documents:
        assert all(d.text[p.start : p.end] == p.text for p in d.paragraphs)
    assert corpus.embed_input(heat, heat.paragraphs[0]).startswith("Heat wave\n")
    assert any("line 3: not a JSON object" in p for p in c.problems)
    assert any("id 'heat-1' seen before" in p for p in c.problems)


def test_beir_folder_is_read_from_its_corpus_file(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text(json.dumps({"_id": "4983", "title": "Microstructure", "text": "Alterations of the brain."}) + "\n")
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "1", "text": "brain"}) + "\n")
    c = readers.read(tmp_path)
    assert [p.id for p in c.paragraphs] == ["4983#p1"] and c.documents[0].title == "Microstructure"
