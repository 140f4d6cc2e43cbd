"""Markdown: the prose without markup (links keep their text, code keeps its content)."""

from __future__ import annotations

import re

from search.ingest.model import ParseLimits
from search.ingest.text import decode_text

_MD_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_MD_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^[ \t]*(```|~~~).*$", re.MULTILINE), ""),  # code fence lines
    (re.compile(r"^[ \t]*\[[^\]]+\]:[ \t]*\S+.*$", re.MULTILINE), ""),  # reference definitions
    (
        re.compile(
            r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", re.MULTILINE
        ),
        "",
    ),  # table rules
    (re.compile(r"^[ \t]*([-*_][ \t]*){3,}$", re.MULTILINE), ""),  # horizontal rules
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # inline links -> link text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links -> link text
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"</?[A-Za-z][^>\n]*>"), ""),  # inline HTML tags
    (re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE), ""),  # heading markers
    (re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE), ""),  # blockquotes
    (re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE), r"\1"),  # bullets
    (re.compile(r"`+([^`\n]*)`+"), r"\1"),  # inline code
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),  # italic *x*
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # italic _x_, not snake_case
    (re.compile(r"~~(.+?)~~"), r"\1"),  # strikethrough
]


def _strip_markdown(text: str) -> str:
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text


def parse_markdown(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    """(title, text) of a Markdown file: the first `# heading` is the title."""
    text = _MD_FRONT_MATTER.sub("", decode_text(raw).replace("\r\n", "\n"))
    match = _MD_H1.search(text)
    title = _strip_markdown(match.group(1)) if match else ""
    return title, _strip_markdown(text)
