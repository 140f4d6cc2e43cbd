"""A crawled web page: its main text (trafilatura), without menus, sidebars and footers.

An intranet page repeats its navigation on every page; indexed whole, every page would match
every menu word. trafilatura (Barbaresi, ACL 2021) keeps the main content and the page's
title. When it finds no main content (a page that is all links), the page's visible text is
taken as the documents folder takes it (``html``). It runs in the bounded parse workers like
every other parser, so a hostile page costs at most the workers' time and memory limits.
"""

from __future__ import annotations

from search.ingest.formats.html import declared_charset, parse_html
from search.ingest.model import ParseLimits
from search.ingest.text import decode_text


def parse_webpage(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    """(title, main text) of a web page."""
    import trafilatura

    markup = decode_text(raw, declared=declared_charset(raw))
    found = trafilatura.bare_extraction(
        markup, with_metadata=True, include_comments=False, favor_recall=True
    )
    text = (getattr(found, "text", None) or "").strip() if found is not None else ""
    if not text:
        return parse_html(raw, stem, limits)
    title = getattr(found, "title", None) or parse_html(raw, stem, limits)[0]
    return title, text
