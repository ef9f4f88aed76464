"""Bring your own news: HTML pages, PDFs, dates, and documents added and removed while serving."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from rag.answer import pipeline
from rag.config import Settings
from rag.errors import InputError, NotFound
from rag.ingest import adding, formats, readers
from rag.serve import api
from tests.conftest import rag_serve

PAGE = """<!doctype html><html><head><title>Ferry line to reopen | Harbour Gazette</title>
<meta property="og:url" content="https://gazette.example/ferry-line">
<meta name="author" content="Lena Okafor">
<meta property="article:published_time" content="2024-05-14T08:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/ports">Ports</a> <a href="/weather">Weather</a></nav>
<div id="cookies">We use cookies to improve your experience. Accept all cookies</div>
<article><h1>Ferry line to reopen</h1><p class="byline">By Lena Okafor</p>
<p>The ferry line between Northport and the island of Skerra will reopen on 3 June after a two-year closure, the harbour authority said on Tuesday.</p>
<p>The new vessel, the Gull, carries 240 passengers and 30 cars, and crosses in fifty minutes.</p>
<p>Tickets go on sale next week, priced at 18 euros for adults.</p></article>
<aside><h3>Related articles</h3><ul><li><a href="/a">Storm closes coast road</a></li><li><a href="/b">Fish prices fall</a></li></ul></aside>
<footer>Copyright 2024 Harbour Gazette. All rights reserved.</footer></body></html>"""


def make_pdf(pages: list[list[str]], title: str = "") -> bytes:
    """A minimal PDF with Helvetica text lines on each page (written by hand: no PDF library writes text)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        ops = "BT /F1 11 Tf 14 TL 72 740 Td " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
        objects.append(f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {len(objects)} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    if title:
        objects.append(f"<< /Title ({title}) /CreationDate (D:20240301120000Z) >>")
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write("".join(f"{o:010d} 00000 n \n" for o in offsets).encode())
    info = f" /Info {len(objects)} 0 R" if title else ""
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


REPORT = make_pdf([
    ["Annual report of the Skerra water board.", "", "The board replaced 14 kilometres of pipes in the spring."],
    ["Water use fell by 9 percent over the year.", "", "The reservoir at Hollin Moor was full in October."],
], title="Skerra water board report")


def test_html_page_keeps_the_article_and_its_metadata_not_the_debris() -> None:
    doc, problem = formats.html("ferry.html", PAGE.encode())
    assert doc is not None and problem == ""
    assert "Gull, carries 240 passengers" in doc.text and doc.title == "Ferry line to reopen"
    for debris in ("Accept all cookies", "Related articles", "Storm closes", "Copyright", "Weather"):
        assert debris not in doc.text
    assert doc.meta["date"] == "2024-05-14" and doc.meta["url"] == "https://gazette.example/ferry-line"
    assert doc.meta["author"] == "Lena Okafor"
    assert all(doc.text[p.start : p.end] == p.text for p in doc.paragraphs)


def test_html_without_an_article_is_skipped_with_a_reason() -> None:
    doc, problem = formats.html("empty.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    assert doc is None and "no article text" in problem


def test_pdf_paragraphs_carry_their_page() -> None:
    doc, problem = formats.pdf("report.pdf", REPORT)
    assert doc is not None and problem == "" and doc.title == "Skerra water board report"
    pages = {p.page for p in doc.paragraphs if "Water use fell" in p.text} | {p.page for p in doc.paragraphs if "14 kilometres" in p.text}
    assert pages == {1, 2} and doc.meta["date"] == "2024-03-01"
    assert all(doc.text[p.start : p.end] == p.text for p in doc.paragraphs)


def test_encrypted_image_only_and_broken_pdfs_are_skipped_by_name() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(REPORT)))
    writer.encrypt("secret")
    locked = io.BytesIO()
    writer.write(locked)
    assert formats.pdf("locked.pdf", locked.getvalue()) == (None, "encrypted PDF, skipped")
    assert "no text" in formats.pdf("scan.pdf", make_pdf([[]]))[1]
    assert "broken PDF" in formats.pdf("bad.pdf", b"%PDF-1.4\nthis is not a pdf")[1]


def test_a_folder_corpus_reads_every_kind_and_names_what_it_skips(tmp_path: Path) -> None:
    (tmp_path / "ferry.html").write_text(PAGE)
    (tmp_path / "report.pdf").write_bytes(REPORT)
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 junk")
    (tmp_path / "note.txt").write_text("Northport, 2 June 2024\n\nThe harbour master said the new pier is finished and open to boats.\n")
    (tmp_path / "one.json").write_text(json.dumps({"title": "Pier", "text": "The pier is 300 metres long.", "date": "2024-06-01"}))
    corpus = readers.read(tmp_path)
    dates = {d.name: d.meta.get("date") for d in corpus.documents}
    assert dates == {"ferry.html": "2024-05-14", "report.pdf": "2024-03-01", "note.txt": "2024-06-02", "one.json": "2024-06-01"}
    assert any(p.startswith("bad.pdf: broken PDF") for p in corpus.problems)


def test_add_checks_names_types_and_size(tmp_path: Path) -> None:
    assert adding.add(tmp_path, "../../x/ferry page.html", PAGE.encode()).name == "added/ferry-page.html"
    assert (tmp_path / "added" / "ferry-page.html").read_text() == PAGE
    with pytest.raises(InputError, match="not a supported file"):
        adding.add(tmp_path, "tool.exe", b"MZ")
    with pytest.raises(InputError, match="limit is 10"):
        adding.add(tmp_path, "big.txt", b"x" * 11, max_bytes=10)
    with pytest.raises(InputError, match="broken PDF"):
        adding.add(tmp_path, "bad.pdf", b"%PDF-1.4 junk")
    with pytest.raises(NotFound):
        adding.remove(tmp_path, "../outside.txt")
    adding.remove(tmp_path, "added/ferry-page.html")
    assert not (tmp_path / "added" / "ferry-page.html").exists()


def test_dated_jsonl_documents_date_their_citations(tmp_path: Path) -> None:
    rows = [{"id": "toll-2023", "title": "Bridge toll", "text": "The bridge toll for cars is 4 euros, the council said.", "date": "2023-01-10"},
            {"id": "toll-2024", "title": "Bridge toll rises", "text": "The bridge toll for cars rose to 5 euros this spring, the council said.", "date": "2024-04-02"}]
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    p = pipeline.build(Settings(corpus_dir=tmp_path / "docs.jsonl", index_dir=tmp_path / "index", llm="extractive"))
    a = p.ask("How much is the bridge toll for cars?")
    assert not a.refused and {c.date for c in a.citations} <= {"2023-01-10", "2024-04-02"} and a.citations[0].date
    assert {x["date"] for x in a.passages} == {"2023-01-10", "2024-04-02"}
    if len({c.date for c in a.citations}) == 2:  # both figures given: the disagreement is named with its dates
        assert any(n.startswith("the sources differ") and "2023-01-10" in n and "2024-04-02" in n for n in a.notes)
    latest = p.ask("What is the bridge toll for cars now?")
    assert latest.citations[0].date == "2024-04-02" and "5 euros" in latest.answer.split("[")[0]


@pytest.fixture(params=["faiss", "milvus"])
def ingest_settings(request: pytest.FixtureRequest, corpus_copy: Path, tmp_path: Path) -> Settings:
    """A corpus copy served with the key set, on each store: live ingestion works on both."""
    return Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index", llm="extractive", api_key="k", store=request.param)


def test_api_adds_answers_from_and_removes_a_document(ingest_settings: Settings) -> None:
    auth = {"Authorization": "Bearer k"}
    with TestClient(api.create_app(ingest_settings)) as client:
        files = {"file": ("ferry.html", PAGE.encode(), "text/html")}
        assert client.post("/documents", files=files).status_code == 401  # the key is needed
        r = client.post("/documents", files=files, headers=auth)
        assert r.status_code == 201 and r.json() == {"name": "added/ferry.html", "title": "Ferry line to reopen",
                                                      "paragraphs": r.json()["paragraphs"], "date": "2024-05-14"}
        a = client.post("/ask", json={"question": "How many passengers does the Gull carry?"}, headers=auth).json()
        assert not a["refused"] and a["citations"][0]["source"] == "added/ferry.html" and a["citations"][0]["date"] == "2024-05-14"
        doc = client.get("/documents/added/ferry.html", headers=auth).json()
        text = {p["start"]: p["text"] for p in doc["paragraphs"]}
        c = a["citations"][0]
        assert any(s <= c["start"] and c["quote"] in t for s, t in text.items())
        pdf = client.post("/documents", files={"file": ("report.pdf", REPORT, "application/pdf")}, headers=auth).json()
        b = client.post("/ask", json={"question": "Which reservoir was full in October?"}, headers=auth).json()
        assert pdf["name"] == "added/report.pdf" and b["citations"][0]["source"] == "added/report.pdf" and b["citations"][0]["page"] == 2
        bad = client.post("/documents", files={"file": ("x.pdf", b"%PDF-1.4 junk", "application/pdf")}, headers=auth)
        assert bad.status_code == 422 and "broken PDF" in bad.json()["detail"]
        assert client.post("/documents", files={"file": ("x.exe", b"MZ", "application/octet-stream")}, headers=auth).status_code == 422
        assert client.delete("/documents/added/ferry.html", headers=auth).json() == {"removed": "added/ferry.html"}
        assert client.delete("/documents/added/ferry.html", headers=auth).status_code == 404
        gone = client.post("/ask", json={"question": "How many passengers does the Gull carry?"}, headers=auth).json()
        assert all(c["source"] != "added/ferry.html" for c in gone["citations"])
    again = pipeline.build(ingest_settings)  # a rebuild from the corpus keeps what was added and acknowledged
    assert "added/report.pdf" in again.retriever.index.documents and "added/ferry.html" not in again.retriever.index.documents
    assert again.retriever.index.manifest["store"]["name"] == ingest_settings.store


@pytest.mark.slow
def test_cli_add_then_ask_cites_the_page_with_its_date(corpus_copy: Path, tmp_path: Path) -> None:
    page = tmp_path / "ferry.html"
    page.write_text(PAGE)
    env = {**os.environ, "RAG_CORPUS_DIR": str(corpus_copy), "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_LLM": "extractive"}
    added = subprocess.run([sys.executable, "-m", "rag", "add", str(page)], env=env, capture_output=True, text=True, timeout=300)
    assert added.returncode == 0 and "added added/ferry.html" in added.stdout and "dated 2024-05-14" in added.stdout
    asked = subprocess.run([sys.executable, "-m", "rag", "ask", "--json", "When will the ferry line reopen?"], env=env,
                           capture_output=True, text=True, timeout=300)
    a = json.loads(asked.stdout)
    assert not a["refused"] and a["citations"][0]["source"] == "added/ferry.html" and "3 June" in a["answer"]
    assert a["citations"][0]["date"] == "2024-05-14" and a["citations"][0]["supported"]
    removed = subprocess.run([sys.executable, "-m", "rag", "remove", "added/ferry.html", "nope.txt"], env=env,
                             capture_output=True, text=True, timeout=300)
    assert removed.returncode != 0 and "removed added/ferry.html" in removed.stdout and "nope.txt" in removed.stderr
    assert "Traceback" not in added.stderr + asked.stderr + removed.stderr


@pytest.mark.slow
def test_cli_add_names_each_unusable_file_once_and_leaves_the_index_alone(corpus_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "torn.pdf").write_bytes(b"%PDF-1.4\nthis is not a pdf")
    env = {**os.environ, "RAG_CORPUS_DIR": str(corpus_copy), "RAG_INDEX_DIR": str(tmp_path / "index")}
    r = subprocess.run([sys.executable, "-m", "rag", "add", str(tmp_path / "empty.txt"), str(tmp_path / "torn.pdf")],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and r.stdout == "" and not (tmp_path / "index").exists()
    assert r.stderr.splitlines() == ["error: empty.txt: empty file", "error: torn.pdf: broken PDF (PdfStreamError)"]


@pytest.fixture
def live(corpus_copy: Path, tmp_path: Path) -> Iterator[str]:
    with rag_serve(RAG_CORPUS_DIR=str(corpus_copy), RAG_INDEX_DIR=str(tmp_path / "index"), RAG_LLM="extractive") as base:
        yield base


@pytest.mark.slow
def test_ingest_while_twenty_questions_run(live: str) -> None:
    question = {"question": "How many cars does the Gull carry?"}
    with ThreadPoolExecutor(21) as pool:
        asks = [pool.submit(httpx.post, f"{live}/ask", json={"question": "How long is the border Kazakhstan shares with Russia?"},
                            timeout=120) for _ in range(20)]
        added = pool.submit(httpx.post, f"{live}/documents", files={"file": ("ferry.html", PAGE.encode(), "text/html")}, timeout=120)
        assert added.result().status_code == 201
        after = httpx.post(f"{live}/ask", json=question, timeout=120).json()
        assert all(f.result().status_code == 200 and "6,846" in f.result().json()["answer"] for f in asks)
    assert not after["refused"] and after["citations"][0]["source"] == "added/ferry.html"
