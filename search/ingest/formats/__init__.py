"""One parser per format; each maps (raw bytes, file stem, limits) to (title, text)."""

from __future__ import annotations

from collections.abc import Callable

from search.ingest.formats import docx, pdf
from search.ingest.formats.docx import parse_docx
from search.ingest.formats.html import parse_html
from search.ingest.formats.markdown import parse_markdown
from search.ingest.formats.pdf import parse_pdf
from search.ingest.formats.plain import parse_text
from search.ingest.formats.webpage import parse_webpage
from search.ingest.model import ParseLimits

Parser = Callable[[bytes, str, ParseLimits], tuple[str, str]]

PARSERS: dict[str, Parser] = {
    "pdf": parse_pdf,
    "docx": parse_docx,
    "html": parse_html,
    "markdown": parse_markdown,
    "text": parse_text,
    "webpage": parse_webpage,  # a crawled page: its main text (no suffix maps to it)
}

# What to say when a format parsed cleanly but held no text.
NO_TEXT: dict[str, str] = {"pdf": pdf.NO_TEXT, "docx": docx.NO_TEXT}

FORMAT_NAMES = {
    "pdf": "PDF",
    "docx": "Word",
    "html": "HTML",
    "markdown": "Markdown",
    "text": "plain text",
    "webpage": "web page",
}

__all__ = ["FORMAT_NAMES", "NO_TEXT", "PARSERS", "Parser"]
