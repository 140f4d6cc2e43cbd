"""Plain text: the decoded bytes with hard-wrapped lines joined
(`search.line_breaks.unwrap`); the first short line is the title."""

from __future__ import annotations

from search.ingest.model import ParseLimits
from search.ingest.text import decode_text, first_line_title
from search.line_breaks import unwrap


def parse_text(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    """(title, text) of a .txt file."""
    text = unwrap(decode_text(raw))
    return first_line_title(text, stem), text
