"""A PDF table drawn with ruling lines reads row by row, as a Word or HTML table does."""

from __future__ import annotations

import io

import pdfplumber
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import (
    ListFlowable,
    ListItem,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from search.ingest import ParseLimits
from search.ingest.formats import pdf
from search.ingest.formats.pdf import parse_pdf

ROWS = [
    ["Code", "Meaning", "What to do"],
    [
        "E101",
        "Front lidar obstructed or dirty",
        "Clean the lidar window with the supplied "
        "microfibre cloth; remove tape or labels near the sensor.",
    ],  # fmt: skip
    ["E102", "Rear lidar obstructed or dirty", "As E101, for the rear scanner."],
]


def manual(ruled: bool = True, pages: int = 1) -> bytes:
    """A page with a paragraph, a list, a table (cells wrapped in narrow columns) and a closing
    paragraph, as reportlab's platypus lays them out (the sample's PDFs are made the same way)."""
    styles = getSampleStyleSheet()
    table = Table([[Paragraph(c, styles["BodyText"]) for c in r] for r in ROWS], [60, 140, 160])
    if ruled:
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey)]))
    story = [
        Paragraph("Error codes", styles["Heading2"]),
        Paragraph("Codes starting with E1 relate to sensors.", styles["BodyText"]),
        ListFlowable([ListItem(Paragraph("Note the code first.", styles["BodyText"]))]),
        table,
        Paragraph("Call support when an error recurs.", styles["BodyText"]),
    ]
    story = [*story, *[PageBreak(), *story] * (pages - 1)]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, invariant=1).build(story)
    return out.getvalue()


def test_a_ruled_table_is_read_row_by_row_in_its_place_on_the_page():
    _, text = parse_pdf(manual(), "manual", ParseLimits())
    assert "E102 | Rear lidar obstructed or dirty | As E101, for the rear scanner." in text
    assert (
        "E101 | Front lidar obstructed or dirty | Clean the lidar window with the supplied "
        "microfibre cloth; remove tape or labels near the sensor." in text
    )
    header = text.index("Code | Meaning | What to do")
    assert text.index("relate to sensors.") < text.index("Note the code first.") < header
    assert header < text.index("Call support when an error recurs.")
    assert "cid:" not in text  # the list's bullet glyph is no "(cid:N)" noise


def test_a_table_without_ruling_lines_and_a_page_pdfplumber_cannot_read_keep_the_text_layer(
    monkeypatch,
):
    _, unruled = parse_pdf(manual(ruled=False), "manual", ParseLimits())
    assert " | " not in unruled and "Rear lidar obstructed or dirty" in unruled

    def broken(_raw):
        raise ValueError("pdfminer could not parse this")

    monkeypatch.setattr(pdfplumber, "open", broken)
    _, text = parse_pdf(manual(), "manual", ParseLimits())
    assert " | " not in text  # pypdf's text, every word of it
    for word in ("E102", "Rear lidar obstructed or dirty", "Call support when an error recurs."):
        assert word in text
    assert pdf._with_tables(manual(), ["kept"], [0]) == ["kept"]


def test_only_pages_that_draw_rules_are_read_again_and_only_up_to_the_cap(monkeypatch):
    from pypdf import PdfReader

    assert pdf._ruled_pages(PdfReader(io.BytesIO(manual(ruled=False))).pages) == []
    assert pdf._ruled_pages(PdfReader(io.BytesIO(manual(pages=3))).pages) == [0, 1, 2]
    monkeypatch.setattr(pdf, "MAX_TABLE_PAGES", 2)
    _, text = parse_pdf(manual(pages=3), "manual", ParseLimits())
    assert text.count("E102 | Rear lidar obstructed or dirty") == 2  # the third page: as lines
    assert text.count("Rear lidar obstructed or dirty") == 3


def test_a_page_read_with_its_tables_that_lost_words_keeps_pypdfs_text(monkeypatch):
    # a table reader that misplaced the page's text (only the rows survive) replaces nothing
    monkeypatch.setattr(pdf, "_page_with_tables", lambda _page, tables: "E102 | Rear lidar")
    _, text = parse_pdf(manual(), "manual", ParseLimits())
    assert "Call support when an error recurs." in text and " | " not in text
    assert pdf._keeps_words("a b c d", "a | b | c | d") and not pdf._keeps_words("a b c d", "a b")
