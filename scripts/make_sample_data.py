"""Generate the PDF and DOCX files of a sample corpus from Markdown-like sources.

Each source ``<folder>/<name>.pdf.md`` or ``<name>.docx.md`` becomes ``<docs>/<folder>/<name>.pdf``
or ``.docx``. The defaults regenerate data/sample (Northwind Robotics) from scripts/sample_sources;
``--sources``, ``--docs`` and ``--author`` point it at another corpus, for example
``--sources scripts/municipality_sources --docs data/municipality/docs --author "Municipality of
Ravelstede"``. The files are committed, so nothing needs generating to use a corpus.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import docx
from docx.shared import Pt
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from search.ingest.dates import date_in_text

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "scripts" / "sample_sources"
DOCS = ROOT / "data" / "sample" / "docs"
AUTHOR = "Northwind Robotics"

# Files written without a title in their metadata, so the loader's fallbacks get exercised
# (paths of data/sample; another corpus whose paths differ gets titles on every file).
NO_METADATA_TITLE = {"finance/purchasing-policy.pdf", "finance/corporate-card-guide.docx"}

# A fixed date keeps regenerated files stable where the libraries allow it: a Word file carries
# the date its text states (as Word would have saved it that day), else this one.
FIXED_DATE = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
# The zip time of every member of a Word file: the moment the committed data/sample files were
# written, so that regenerating data/sample reproduces them byte for byte.
ZIP_STAMP = (2026, 11, 27, 13, 6, 50)


@dataclass
class Block:
    kind: str  # "title" | "h2" | "h3" | "para" | "bullets" | "numbers" | "table"
    items: list


def parse_source(text: str) -> list[Block]:
    """Read the tiny markup used in sample_sources: '#', '##', '###', '- ', '1. ', '| a | b |'."""
    blocks: list[Block] = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line:
            continue
        last = blocks[-1] if blocks else None
        if line.startswith("### "):
            blocks.append(Block("h3", [line[4:]]))
        elif line.startswith("## "):
            blocks.append(Block("h2", [line[3:]]))
        elif line.startswith("# "):
            blocks.append(Block("title", [line[2:]]))
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if last and last.kind == "table":
                last.items.append(cells)
            else:
                blocks.append(Block("table", [cells]))
        elif line.startswith("- "):
            if last and last.kind == "bullets":
                last.items.append(line[2:])
            else:
                blocks.append(Block("bullets", [line[2:]]))
        elif m := re.match(r"\d+\. (.*)", line):
            if last and last.kind == "numbers":
                last.items.append(m.group(1))
            else:
                blocks.append(Block("numbers", [m.group(1)]))
        else:
            blocks.append(Block("para", [line]))
    return blocks


def write_pdf(blocks: list[Block], out: Path, with_title: bool, author: str) -> None:
    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=8.5, leading=10.5)
    title = next(b.items[0] for b in blocks if b.kind == "title")
    story = []
    for block in blocks:
        if block.kind == "title":
            story.append(Paragraph(escape(block.items[0]), styles["Title"]))
        elif block.kind in ("h2", "h3"):
            style = styles["Heading2"] if block.kind == "h2" else styles["Heading3"]
            story.append(Paragraph(escape(block.items[0]), style))
        elif block.kind == "para":
            story.append(Paragraph(escape(block.items[0]), styles["BodyText"]))
        elif block.kind in ("bullets", "numbers"):
            items = [ListItem(Paragraph(escape(t), styles["BodyText"])) for t in block.items]
            kind = "bullet" if block.kind == "bullets" else "1"
            story.append(ListFlowable(items, bulletType=kind, leftIndent=14))
        elif block.kind == "table":
            rows = [[Paragraph(escape(c), cell) for c in row] for row in block.items]
            table = Table(rows, repeatRows=1, hAlign="LEFT")
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story.append(table)
        story.append(Spacer(1, 4))
    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        title=title if with_title else "",
        author=author,
        invariant=1,  # no timestamps or random ids: regenerating gives identical bytes
    )
    doc.build(story)


def write_docx(blocks: list[Block], out: Path, with_title: bool, author: str) -> None:
    document = docx.Document()
    document.styles["Normal"].font.size = Pt(10.5)
    for block in blocks:
        if block.kind == "title":
            document.add_heading(block.items[0], level=0)
        elif block.kind == "h2":
            document.add_heading(block.items[0], level=1)
        elif block.kind == "h3":
            document.add_heading(block.items[0], level=2)
        elif block.kind == "para":
            document.add_paragraph(block.items[0])
        elif block.kind in ("bullets", "numbers"):
            style = "List Bullet" if block.kind == "bullets" else "List Number"
            for item in block.items:
                document.add_paragraph(item, style=style)
        elif block.kind == "table":
            header, *rows = block.items
            table = document.add_table(rows=0, cols=len(header), style="Table Grid")
            for row in block.items:
                cells = table.add_row().cells
                for target, value in zip(cells, row, strict=False):
                    target.text = value
            for run in table.rows[0].cells[0].paragraphs[0].runs:
                run.bold = True
    props = document.core_properties
    title = next(b.items[0] for b in blocks if b.kind == "title")
    props.title = title if with_title else ""
    props.author = author
    stated = date_in_text("\n".join(str(item) for b in blocks[:3] for item in b.items))
    props.created = props.modified = (stated or FIXED_DATE).replace(hour=12, tzinfo=None)
    props.last_modified_by = author
    document.save(str(out))
    freeze_zip_times(out, ZIP_STAMP)


def freeze_zip_times(path: Path, when: tuple[int, ...]) -> None:
    """Stamp every member of a zip (a .docx) with one fixed time, so regenerating gives identical
    bytes: python-docx stamps members with the clock, which made every run rewrite the files."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for info, data in members:
            fixed = zipfile.ZipInfo(info.filename, date_time=when)
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sources", type=Path, default=SOURCES, help="folder of *.pdf.md / *.docx.md"
    )
    parser.add_argument(
        "--docs", "--out", dest="docs", type=Path, default=DOCS, help="docs folder to write into"
    )
    parser.add_argument("--author", default=AUTHOR, help="author written into each file's metadata")
    args = parser.parse_args()
    sources = sorted(args.sources.rglob("*.md"))
    if not sources:
        raise SystemExit(f"{args.sources}: no *.pdf.md or *.docx.md sources found")
    for source in sources:
        rel = source.relative_to(args.sources).as_posix().removesuffix(".md")  # hr/leave-policy.pdf
        out = args.docs / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        blocks = parse_source(source.read_text(encoding="utf-8"))
        with_title = rel not in NO_METADATA_TITLE
        if rel.endswith(".pdf"):
            write_pdf(blocks, out, with_title, args.author)
        elif rel.endswith(".docx"):
            write_docx(blocks, out, with_title, args.author)
        else:
            raise SystemExit(f"{source}: name must end in .pdf.md or .docx.md")
        print(f"{out}  {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
