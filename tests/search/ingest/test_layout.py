"""Wrapped lines joined into their sentences, hyphenation undone, structure kept (PDF and text)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from search.ingest import ParseLimits
from search.ingest.formats.pdf import parse_pdf
from search.ingest.formats.plain import parse_text
from search.line_breaks import unwrap

LIMITS = ParseLimits()
POLICY = (
    "Report any suspected security incident, lost device or phishing e-mail to the security "
    "team within one hour of noticing it. Do not try to investigate on your own and do not "
    "delete the suspicious e-mail. Outside office hours, call the on-call security number."
)


def _flowing_pdf() -> bytes:
    """A narrow page whose paragraph reportlab wraps at the margin, then a table."""
    out = io.BytesIO()
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(out, pagesize=(A4[0] / 2, A4[1]), invariant=1)
    table = Table([["Item", "Limit"], ["Hotel London", "EUR 220"], ["Per diem EU", "EUR 55"]])
    doc.build(
        [
            Paragraph("Reporting incidents", styles["Heading2"]),
            Paragraph(POLICY, styles["BodyText"]),
            Spacer(1, 12),
            Paragraph("Second paragraph.", styles["BodyText"]),
            table,
        ]
    )
    return out.getvalue()


def _lines_pdf(lines: list[str]) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, invariant=1)
    for n, line in enumerate(lines):
        pdf.drawString(72, 800 - 16 * n, line)
    pdf.save()
    return out.getvalue()


def test_pdf_sentence_wrapped_at_the_margin_stays_one_sentence():
    _, text = parse_pdf(_flowing_pdf(), "policy", LIMITS)
    assert "Do not try to investigate on your own" in text
    assert " ".join(POLICY.split()) in " ".join(text.split())
    lines = text.split("\n")
    assert lines[0] == "Reporting incidents"  # the heading keeps its own line
    assert any(line.startswith("Report any suspected") and "number." in line for line in lines)
    assert "Second paragraph." in lines


def test_pdf_table_rows_are_not_glued_into_the_paragraph():
    _, text = parse_pdf(_flowing_pdf(), "policy", LIMITS)
    assert "EUR 220" in text
    assert "number. Item" not in text and "paragraph. Item" not in text


def test_pdf_line_end_hyphenation_is_undone():
    lines = [
        "Employees who suspect a phishing attack must never try to inves-",
        "tigate it themselves; they forward the suspicious e-",
        "mail to the security team. An e-mail from outside is marked.",
    ]
    _, text = parse_pdf(_lines_pdf(lines), "memo", LIMITS)
    assert "try to investigate it themselves" in text
    assert "suspicious e-mail to the security team" in text  # a hyphen the text uses is kept


def test_short_lines_headings_and_lists_keep_their_breaks():
    text = "\n".join([
        "Monthly close",
        "The books are closed on the 5th working day.",
        "- 1 September: templates sent",
        "- 3 October: deadline",
        "1. first step",
        "2. second step",
        "",
        "Quarter ends",
    ])  # fmt: skip
    assert unwrap(text) == text


def test_plain_text_hard_wrapped_paragraphs_are_joined_and_tables_kept():
    raw = (
        b"SECURITY NOTE\n\n"
        b"Report any suspected security incident to the security team. Do not try\n"
        b"to investigate on your own and do not delete the suspicious message at all.\n\n"
        b"Item        Limit\n"
        b"Hotel       EUR 220\n"
    )
    title, text = parse_text(raw, "note", LIMITS)
    assert title == "SECURITY NOTE"
    assert "Do not try to investigate on your own" in text
    assert "Item        Limit\nHotel       EUR 220" in text
    assert "\n\n" in text  # paragraph breaks survive


def test_unwrap_joins_a_full_line_that_ends_mid_sentence():
    width = "Northwind Robotics B.V. · IT and Security · Version 2.0, approved on 14"
    text = f"{width}\nJanuary 2025. Owner: Sanne de Groot.\n{'x' * len(width)}."
    assert unwrap(text).startswith(f"{width} January 2025. Owner")
