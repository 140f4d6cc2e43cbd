"""HTML: visible text with paragraph breaks, without scripts, styles and navigation."""

from __future__ import annotations

import re

from search.ingest.model import ParseLimits

_HTML_NOISE = ("script", "style", "noscript", "template", "head", "nav", "footer", "iframe", "svg")
_HTML_BLOCKS = (
    "p", "div", "section", "article", "main", "header", "aside", "h1", "h2", "h3", "h4", "h5",
    "h6", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr", "blockquote", "pre", "figure",
    "figcaption", "hr", "form", "fieldset", "details", "summary", "address",
)  # fmt: skip
# Private-use sentinels survive get_text() and whitespace collapsing, then become line breaks.
_PARA, _LINE = "\ue000", "\ue001"


def parse_html(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    """(title, text) of a web page: <title>, else the first <h1>."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if not title and (h1 := soup.find("h1")) is not None:
        title = h1.get_text(" ", strip=True)
    for tag in soup.find_all(_HTML_NOISE):
        tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with(_LINE)
    for tag in soup.find_all(("td", "th")):
        tag.insert_after(" ")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before(_PARA)
        tag.insert_after(_PARA)
    text = re.sub(r"\s+", " ", soup.get_text())
    text = text.replace(_LINE, "\n").replace(_PARA, "\n\n")
    return title, text
