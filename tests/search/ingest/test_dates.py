"""A document's date comes from the document (metadata, front matter, stated text), the file
time only last, and the metadata says which; the date filters use it."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from pypdf.xmp import XmpInformation
from reportlab.pdfgen import canvas

from search.ingest import load_folder, parse_file
from search.ingest.dates import date_in_text, parse_date
from search.retrieval import Filters

SAMPLE_DOCS = Path(__file__).parents[3] / "data" / "sample" / "docs"
OLD_MTIME = dt.datetime(2020, 5, 5, tzinfo=dt.UTC).timestamp()


def _pdf_with_text(lines: list[str], invariant: int = 1) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, invariant=invariant)
    for n, line in enumerate(lines):
        pdf.drawString(72, 800 - 16 * n, line)
    pdf.save()
    return out.getvalue()


def _pdf_with_metadata(info: dict | None = None, xmp_modified: dt.datetime | None = None) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(_pdf_with_text(["Quarterly report."])))
    if info:
        writer.add_metadata(info)
    if xmp_modified:
        xmp = XmpInformation.create()
        xmp.xmp_modify_date = xmp_modified
        writer.xmp_metadata = xmp
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _docx(modified: dt.datetime) -> bytes:
    document = docx.Document()
    document.add_paragraph("Team meals are reimbursed up to 35 euros.")
    document.core_properties.modified = modified
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _parsed(tmp_path: Path, name: str, raw: bytes) -> dict:
    path = tmp_path / name
    path.write_bytes(raw)
    os.utime(path, (OLD_MTIME, OLD_MTIME))
    return parse_file(path, tmp_path).metadata


def test_pdf_info_dictionary_gives_the_date(tmp_path):
    meta = _parsed(tmp_path, "a.pdf", _pdf_with_metadata({"/ModDate": "D:20250314093000+01'00'"}))
    assert (meta["modified"], meta["date_source"]) == ("2025-03-14T08:30:00+00:00", "pdf-info")
    assert meta["file_modified"].startswith("2020-05-05")


def test_pdf_xmp_gives_the_date_when_the_info_dictionary_has_none(tmp_path):
    raw = _pdf_with_metadata(xmp_modified=dt.datetime(2025, 2, 3, 10, 0, tzinfo=dt.UTC))
    meta = _parsed(tmp_path, "x.pdf", raw)
    assert (meta["modified"][:10], meta["date_source"]) == ("2025-02-03", "xmp")


def test_a_placeholder_pdf_date_gives_way_to_the_date_the_text_states(tmp_path):
    # reportlab's invariant mode writes 2000-01-01: not the document's date
    raw = _pdf_with_text(["Leave Policy", "Version 3.1, effective 1 January 2025."])
    meta = _parsed(tmp_path, "leave.pdf", raw)
    assert (meta["modified"], meta["date_source"]) == ("2025-01-01T00:00:00+00:00", "text")


def test_docx_core_properties_give_the_date(tmp_path):
    meta = _parsed(tmp_path, "m.docx", _docx(dt.datetime(2025, 5, 6, 12, 0)))
    assert (meta["modified"], meta["date_source"]) == ("2025-05-06T12:00:00+00:00", "docx-core")


def test_html_meta_gives_the_date(tmp_path):
    page = (
        b'<html><head><meta property="og:title" content="x">'
        b'<meta name="dcterms.modified" content="2025-01-20"></head>'
        b"<body><p>Connect to the VPN. Updated 3 March 2024.</p></body></html>"
    )
    meta = _parsed(tmp_path, "vpn.html", page)
    assert (meta["modified"][:10], meta["date_source"]) == ("2025-01-20", "html-meta")


def test_markdown_front_matter_gives_the_date(tmp_path):
    text = b"---\ntitle: Notes\nlast_updated: 2025-04-02\n---\n# Notes\n\nWritten 1 May 2023.\n"
    meta = _parsed(tmp_path, "notes.md", text)
    assert (meta["modified"][:10], meta["date_source"]) == ("2025-04-02", "front-matter")


def test_the_file_time_is_the_last_resort(tmp_path):
    meta = _parsed(tmp_path, "plain.txt", b"No date is stated anywhere in this note.\n")
    assert (meta["modified"][:10], meta["date_source"]) == ("2020-05-05", "file-time")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Travel Policy\nEffective date: 3 March 2025\nOwner: Finance", "2025-03-03"),
        ("IT FAQ\nLast updated 2025-01-14", "2025-01-14"),
        ("Notes of 12 March 2025\nreviewed on 17 March 2025", "2025-03-17"),  # a labelled date wins
        ("Manual, edition 1, August 2025", "2025-08-01"),
        ("Approved on March 3rd, 2025 by the board", "2025-03-03"),
        ("Roadmap for 2031-01-01 onwards", None),  # in the future: not the document's date
        ("No date here at all", None),
    ],
)
def test_dates_stated_in_the_first_lines(text, expected):
    found = date_in_text(text)
    assert (found.date().isoformat() if found else None) == expected


def test_iso_dates_are_not_read_day_first():
    assert parse_date("2025-03-04").date() == dt.date(2025, 3, 4)
    assert parse_date("4 March 2025").date() == dt.date(2025, 3, 4)


def test_sample_corpus_dates_come_from_the_documents_and_filters_use_them():
    report = load_folder(SAMPLE_DOCS)
    meta = {d.id: d.metadata for d in report.documents}
    assert {m["date_source"] for m in meta.values()} >= {
        "text", "docx-core", "html-meta", "front-matter"
    }  # fmt: skip
    assert all(m["date_source"] != "file-time" for m in meta.values())
    assert meta["hr/travel-policy.pdf"]["modified"].startswith("2025-02-01")
    assert meta["meetings/2025-05-06-product-review.docx"]["modified"].startswith("2025-05-06")
    before = Filters.of(modified_before="2025-12-31")
    assert all(before.matches(m) for m in meta.values())  # the issue: this returned nothing
    spring = Filters.of(modified_after="2025-03-01", modified_before="2025-04-01")
    assert {d for d, m in meta.items() if spring.matches(m)} >= {
        "finance/purchasing-policy.pdf",
        "meetings/2025-03-18-engineering-sync.txt",
        "it/meeting-room-booking.md",
    }
    assert "hr/leave-policy.pdf" not in {d for d, m in meta.items() if spring.matches(m)}
