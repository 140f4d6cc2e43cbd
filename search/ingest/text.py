"""Text helpers shared by the parsers: decoding bytes, normalising whitespace, picking a title."""

from __future__ import annotations

import re

TITLE_MAX_CHARS = 120

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{2,}")


def normalise(text: str) -> str:
    """Collapse runs of spaces, strip lines, and keep paragraph breaks as a single blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = _CONTROL_CHARS.sub(" ", text)
    lines = [_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def first_line_title(text: str, fallback: str) -> str:
    """The first non-blank line if it is short enough to be a title, else `fallback`."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) < TITLE_MAX_CHARS else fallback
    return fallback


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without a BOM), else latin-1."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1", errors="replace")
