"""Word (.docx): paragraphs and tables in document order (python-docx), after zip-bomb checks."""

from __future__ import annotations

import io
import zipfile

from search.ingest.formats.tables import table_text
from search.ingest.model import DocumentError, ParseLimits

NO_TEXT = "DOCX contains no text; add content or remove the file"


def check_zip(raw: bytes, limits: ParseLimits) -> None:
    """Reject non-zips and zip bombs before python-docx inflates anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise DocumentError(
            "not a valid DOCX (not a zip archive); re-save it from Word as .docx"
        ) from exc
    # zipfile never inflates a member past its declared size, so the declared sizes bound memory.
    uncompressed = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos)
    if uncompressed > limits.max_docx_uncompressed_bytes:
        raise DocumentError(
            f"DOCX would expand to {uncompressed:,} bytes, more than the limit of "
            f"{limits.max_docx_uncompressed_bytes:,}; it may be a zip bomb, so check where it came from"
        )
    ratio = uncompressed / max(compressed, 1)
    if ratio > limits.max_zip_ratio:
        raise DocumentError(
            f"DOCX compression ratio is {ratio:.0f}:1, above the limit of {limits.max_zip_ratio:g}:1; "
            "it may be a zip bomb, so check where it came from"
        )


def _table_text(table) -> str:
    return table_text(_cells(row) for row in table.rows)


def _cells(row) -> list[str]:
    """A row's cell texts, a merged cell once (python-docx repeats it for every grid column it
    spans)."""
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(cell.text)
    return cells


def _style_name(paragraph, names: dict[str, str]) -> str:
    """The paragraph's style name, looked up once per style id.

    python-docx's `paragraph.style` searches the styles part with XPath on every call (0.4 ms
    each: minutes for a long document); a paragraph without a style id is in the default
    paragraph style, never a heading.
    """
    properties = paragraph._p.pPr
    style_id = properties.style if properties is not None else None
    if style_id is None:
        return ""
    if style_id not in names:
        style = paragraph.style
        names[style_id] = (style.name if style is not None else "") or ""
    return names[style_id]


def parse_docx(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    """(title, text) of a Word file: the core title, else the first heading."""
    import docx
    from docx.table import Table

    check_zip(raw, limits)
    try:
        document = docx.Document(io.BytesIO(raw))
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocumentError(
            "not a valid DOCX (no Word document inside the zip); re-save it from Word as .docx"
        ) from exc
    blocks: list[str] = []
    heading = ""
    names: dict[str, str] = {}
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.append(_table_text(item))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = _style_name(item, names) if not heading else ""
        if style.startswith("Heading") or style == "Title":
            heading = text
        blocks.append(text)
    text = "\n\n".join(b for b in blocks if b)
    title = (document.core_properties.title or "").strip() or heading
    return title, text
