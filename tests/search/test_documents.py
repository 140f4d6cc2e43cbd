"""Tests for search.ingest: every file becomes a Document or a Rejection with a reason."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from search.ingest import (
    DocumentError,
    ParseLimits,
    load_beir_corpus,
    load_folder,
    parse_file,
)

FIXTURE_DOCS = Path(__file__).parents[1] / "fixtures" / "docs"
SAMPLE = Path(__file__).parents[2] / "data" / "sample"


def make_pdf(path: Path, lines: list[str], title: str | None = None) -> None:
    pdf = canvas.Canvas(str(path), invariant=1)
    if title:
        pdf.setTitle(title)
    y = 800
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 20
    pdf.save()


def make_docx(path: Path) -> None:
    document = docx.Document()
    document.add_heading("Expense Rules", level=1)
    document.add_paragraph("Receipts are required above 25 euros.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Item", "Limit"
    table.cell(1, 0).text, table.cell(1, 1).text = "Team meal", "35 euros"
    document.save(str(path))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The committed text fixtures plus binary files generated here: good and hostile ones."""
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(FIXTURE_DOCS, root, dirs_exist_ok=True)
    make_pdf(
        root / "policies" / "leave.pdf",
        ["Annual leave is 25 days.", "Ask your manager."],
        "Leave Policy",
    )
    make_pdf(root / "policies" / "untitled.pdf", ["Security Basics", "Lock your screen."])
    make_docx(root / "policies" / "expenses.docx")

    (root / "broken").mkdir()
    (root / "broken" / "corrupt.pdf").write_bytes(bytes(range(256)) * 4)
    writer = PdfWriter(clone_from=PdfReader(root / "policies" / "leave.pdf"))
    writer.encrypt(user_password="s3cret", owner_password="owner")
    writer.write(root / "broken" / "encrypted.pdf")
    make_pdf(root / "broken" / "scanned.pdf", [])  # a page with no text layer
    with zipfile.ZipFile(root / "broken" / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * 20_000_000)  # ~20 MB that deflates to ~20 KB
    (root / "broken" / "not-a-zip.docx").write_bytes(b"PK but not really a zip file")
    return root


@pytest.fixture(scope="module")
def report(folder):
    return load_folder(folder)


def by_id(report) -> dict:
    return {d.id: d for d in report.documents}


def reasons(report) -> dict[str, str]:
    return {r.path: r.reason for r in report.rejected}


def test_every_file_is_accounted_for(report):
    # 5 visible committed files + 3 good generated + 5 hostile = 13; the two hidden files are skipped.
    assert report.seen == 13
    assert report.seen == len(report.documents) + len(report.rejected)
    assert sorted(by_id(report)) == [
        "notes/meeting.md",
        "notes/travel-faq.txt",
        "policies/expenses.docx",
        "policies/handbook.html",
        "policies/leave.pdf",
        "policies/untitled.pdf",
    ]
    assert not any(".hidden" in p or ".secret" in p for p in reasons(report))


def test_titles(report):
    titles = {doc_id: d.title for doc_id, d in by_id(report).items()}
    assert titles == {
        "notes/meeting.md": "Weekly Sync Notes",
        "notes/travel-faq.txt": "Travel FAQ",
        "policies/expenses.docx": "Expense Rules",
        "policies/handbook.html": "Staff Handbook",
        "policies/leave.pdf": "Leave Policy",
        "policies/untitled.pdf": "Security Basics",
    }


def test_text_extraction(report):
    docs = by_id(report)
    assert "Annual leave is 25 days." in docs["policies/leave.pdf"].text
    assert "Receipts are required above 25 euros." in docs["policies/expenses.docx"].text
    assert "Team meal | 35 euros" in docs["policies/expenses.docx"].text  # table cells kept

    html = docs["policies/handbook.html"].text
    assert "The office opens at 08:00 every weekday." in html  # inline tags and newlines collapsed
    assert "Lunch is served at noon.\nCoffee is free." in html
    assert "\n\n" in html
    for noise in ("SCRIPT NOISE", "NAVIGATION NOISE", "FOOTER NOISE", "color: red"):
        assert noise not in html

    md = docs["notes/meeting.md"].text
    assert "Decisions are recorded in the wiki by the chair." in md
    assert "deploy --channel canary" in md
    assert "Run make release on Fridays" in md
    assert "snake_case_names" in md
    for markup in ("https://", "**", "```", "`"):
        assert markup not in md

    # Latin-1 bytes: charset-normalizer ties Windows-1250 and -1252 on them, and 1252 wins.
    assert "Café receipts are accepted." in docs["notes/travel-faq.txt"].text


def test_metadata(folder, report):
    doc = by_id(report)["policies/leave.pdf"]
    raw = (folder / "policies" / "leave.pdf").read_bytes()
    assert doc.metadata["path"] == "policies/leave.pdf"
    assert doc.metadata["format"] == "pdf"
    assert doc.metadata["size"] == len(raw)
    assert doc.metadata["content_hash"] == hashlib.sha256(raw).hexdigest()
    assert doc.metadata["modified"].endswith("+00:00")


@pytest.mark.parametrize(
    ("path", "phrase"),
    [
        ("broken/corrupt.pdf", "could not read this PDF"),
        ("broken/encrypted.pdf", "PDF is encrypted; decrypt it or remove the password"),
        ("broken/scanned.pdf", "no extractable text (scanned image?); run OCR first"),
        ("broken/bomb.docx", "zip bomb"),
        ("broken/not-a-zip.docx", "not a valid DOCX"),
        ("notes/empty.txt", "file is empty"),
        ("notes/data.xyz", "unsupported file type '.xyz'"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(report, path, phrase):
    assert phrase in reasons(report)[path]


def test_unsupported_reason_lists_formats(report):
    assert ".pdf" in reasons(report)["notes/data.xyz"]
    assert ".md" in reasons(report)["notes/data.xyz"]


def test_limits(folder):
    with pytest.raises(DocumentError, match="more than the limit"):
        parse_file(folder / "policies" / "leave.pdf", folder, ParseLimits(max_file_bytes=100))
    with pytest.raises(DocumentError, match="1 pages, more than the limit of 0"):
        parse_file(folder / "policies" / "leave.pdf", folder, ParseLimits(max_pdf_pages=0))
    with pytest.raises(DocumentError, match="would expand to"):
        parse_file(
            folder / "policies" / "expenses.docx",
            folder,
            ParseLimits(max_docx_uncompressed_bytes=1000),
        )
    doc = parse_file(folder / "notes" / "travel-faq.txt", folder, ParseLimits(max_text_chars=10))
    assert doc.text == "Travel FAQ"


def test_progress_is_called_per_file(folder):
    calls = []
    report = load_folder(
        folder / "notes", progress=lambda stage, done, total: calls.append((stage, done, total))
    )
    # notes/ holds data.xyz, empty.txt, meeting.md and travel-faq.txt: 4 files, one call each.
    assert calls == [("parse", 1, 4), ("parse", 2, 4), ("parse", 3, 4), ("parse", 4, 4)]
    assert report.seen == 4


def test_load_beir_corpus(tmp_path):
    rows = [
        {"_id": "d1", "title": "Leave", "text": "Annual leave is 25 days."},
        {"_id": "d2", "title": "", "text": "VPN error 809 means UDP 500 is blocked."},
        {"_id": "d3", "text": "No title field at all."},
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    docs = load_beir_corpus(tmp_path)  # a folder holding corpus.jsonl
    assert [d.id for d in docs] == ["d1", "d2", "d3"]
    assert docs[0].title == "Leave" and docs[2].title == ""
    assert docs[1].text == "VPN error 809 means UDP 500 is blocked."
    assert docs[0].metadata["format"] == "beir"
    assert docs[0].metadata["path"] == "d1"
    assert (
        docs[0].metadata["content_hash"]
        == hashlib.sha256(b"Leave\nAnnual leave is 25 days.").hexdigest()
    )
    assert [d.id for d in load_beir_corpus(tmp_path / "corpus.jsonl")] == ["d1", "d2", "d3"]


def test_load_beir_corpus_rejects_bad_lines(tmp_path):
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "ok"}\nnot json\n')
    with pytest.raises(DocumentError, match="line 2"):
        load_beir_corpus(tmp_path)


def test_sample_corpus_loads_cleanly_and_matches_qrels():
    report = load_folder(SAMPLE / "docs")
    assert report.rejected == []
    assert len(report.documents) >= 28
    ids = {d.id for d in report.documents}
    with open(SAMPLE / "qrels" / "test.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert {r["corpus-id"] for r in rows} <= ids
    queries = [json.loads(line) for line in (SAMPLE / "queries.jsonl").read_text().splitlines()]
    assert len(queries) >= 35
    assert {q["_id"] for q in queries} == {r["query-id"] for r in rows}


def test_a_beir_record_with_a_title_and_no_text_is_a_document(tmp_path):
    rows = [
        {"_id": "t1", "title": "Embezzlement investigation", "text": ""},
        {"_id": "t2", "title": "Only a title"},  # no text field at all
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    docs = load_beir_corpus(tmp_path)
    assert [(d.id, d.title, d.text) for d in docs] == [
        ("t1", "Embezzlement investigation", ""),
        ("t2", "Only a title", ""),
    ]
    # The hash covers title + "\n" + empty text.
    assert (
        docs[0].metadata["content_hash"]
        == hashlib.sha256(b"Embezzlement investigation\n").hexdigest()
    )


@pytest.mark.parametrize(
    ("line", "phrase"),
    [
        (b'{"_id": "d1", "text": "caf\xe9"}', "line 1 is not UTF-8; re-save the file as UTF-8"),
        (b"[" * 100_000, "line 1 is not a BEIR record with an _id"),  # too deep for json
        (
            b'{"_id": 1' + b"0" * 5000 + b"}",
            "line 1 is not a BEIR record",
        ),  # int too long for str()
        (b'["a list"]', "line 1 is not a BEIR record with an _id"),
    ],
)
def test_load_beir_corpus_names_the_bad_line(tmp_path, line, phrase):
    (tmp_path / "corpus.jsonl").write_bytes(line + b"\n")
    with pytest.raises(DocumentError, match=phrase):
        load_beir_corpus(tmp_path)


def test_load_beir_corpus_replaces_unpaired_surrogates(tmp_path):
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "title": "a\\ud800b", "text": "x"}\n')
    assert load_beir_corpus(tmp_path)[0].title == "a\ufffdb"
