"""HTML: visible text with paragraph breaks, without scripts, styles and navigation; a table's
rows are paragraphs, their cells separated by " | ".

libxml2's HTML parser (through lxml) reads the page once, and its events go straight to
`_TextTarget`: no tree is built, so a page of 100,000 nested <div>s costs time and memory in
proportion to its size and loses no text to a depth limit (a tree stops at 256 levels).
"""

from __future__ import annotations

import re

from search.ingest.model import ParseLimits
from search.ingest.text import decode_text

_NOISE = frozenset(
    ("script", "style", "noscript", "template", "head", "nav", "footer", "iframe", "svg")
)
_BLOCKS = frozenset((
    "p", "div", "section", "article", "main", "header", "aside", "h1", "h2", "h3", "h4", "h5",
    "h6", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr", "blockquote", "pre", "figure",
    "figcaption", "hr", "form", "fieldset", "details", "summary", "address",
))  # fmt: skip
_CELLS = frozenset(("td", "th"))
# Private-use sentinels survive whitespace collapsing, then become line breaks.
_PARA, _LINE = "\ue000", "\ue001"
_SPACE = re.compile(r"\s+")

# A declared charset is looked for in the first bytes only, as browsers do (bounded work).
_DECLARATION_BYTES = 4096
_DECLARED = re.compile(rb"""(?:<meta[^>]{0,512}?charset|<\?xml[^>]{0,200}?encoding)\s*=\s*["']?([\w.:-]{1,40})""", re.I)  # fmt: skip


class _TextTarget:
    """Collects the page's text, title and first <h1> from the parser's events."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.title: list[str] = []
        self.h1: list[str] = []
        self._noise = 0  # depth inside elements whose text is not content
        self._in_title = False
        self._h1_depth = 0  # > 0 while inside the first <h1>
        self._h1_done = False
        self._cells = 0  # cells begun in the current table row

    def start(self, tag: str, attrib) -> None:
        if tag == "title" and not self.title:
            self._in_title = True
        if self._noise or tag in _NOISE:
            self._noise += 1
            return
        if tag == "h1" and not self._h1_done:
            self._h1_depth += 1
        if tag == "tr":
            self._cells = 0
        if tag in _BLOCKS:
            self.parts.append(_PARA)
        elif tag in _CELLS:  # a row's cells read "a | b", as a .docx table's do
            self.parts.append(" | " if self._cells else "")
            self._cells += 1
        elif tag == "br":
            self.parts.append(_LINE)
        elif tag == "img" and attrib.get("alt"):
            self.parts.append(attrib["alt"])  # the words that stand for the image

    def end(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._noise:
            self._noise -= 1
            return
        if self._h1_depth and tag == "h1":
            self._h1_depth -= 1
            self._h1_done = self._h1_depth == 0
        if tag in _BLOCKS:
            self.parts.append(_PARA)
        elif tag in _CELLS:
            self.parts.append(" ")

    def data(self, text: str) -> None:
        if self._in_title:
            self.title.append(text)
        if self._noise:
            return
        self.parts.append(text)
        if self._h1_depth:
            self.h1.append(text)

    def close(self) -> _TextTarget:
        return self


def declared_charset(raw: bytes) -> str | None:
    match = _DECLARED.search(raw[:_DECLARATION_BYTES])
    return match.group(1).decode("ascii") if match else None


def html_to_text(markup: str) -> tuple[str, str, str]:
    """(title, first <h1>, body text with paragraph breaks) of an HTML page or fragment."""
    from lxml import etree

    # huge_tree lifts libxml2's 10 MB text-node cap; the worker's memory limit bounds it instead.
    parser = etree.HTMLParser(
        target=_TextTarget(), recover=True, no_network=True, huge_tree=True, encoding="utf-8"
    )
    # The text is already decoded: hand over UTF-8 and say so, so no <meta> re-decodes it.
    target = etree.fromstring(markup.encode("utf-8", errors="replace"), parser)
    text = _SPACE.sub(" ", "".join(target.parts))
    text = text.replace(_LINE, "\n").replace(_PARA, "\n\n")
    title = " ".join("".join(target.title).split())
    return title, " ".join("".join(target.h1).split()), text


def parse_html(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    """(title, text) of a web page: <title>, else the first <h1>."""
    title, h1, text = html_to_text(decode_text(raw, declared=declared_charset(raw)))
    return title or h1, text
