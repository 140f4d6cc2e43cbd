"""HTML fragments for results and answers: every piece of document or query text is escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from urllib.parse import urlencode

from search.chat import Answer
from search.index import SearchResult

_CITATION = re.compile(r"\[(\d+)\]")


def esc(text: object) -> str:
    """Escaped, on one line: a blank line would end Markdown's HTML block and expose the text
    to Markdown parsing."""
    return html.escape(" ".join(str(text).split()))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def md(text: object) -> str:
    """Plain text made literal for st.markdown / st.caption: every Markdown (and Streamlit
    directive, math and HTML) character is backslash-escaped, on one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def fmt_score(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def document_href(doc_id: str, query_id: int | None = None, kind: str = "open") -> str:
    """Link to the document page; with a query id the visit is logged as a click of ``kind``
    (at the rank the server recorded: a link carries no rank)."""
    params = {"doc": doc_id, "kind": kind}
    if query_id is not None:
        params["qid"] = str(query_id)
    return "document?" + urlencode(params)


def result_html(
    result: SearchResult, lineage: Mapping[str, str] | None = None, query_id: int | None = None
) -> str:
    """Title, path, highlighted snippet and the score with its parts; with ``lineage`` (label
    -> address: the MLflow run and the Dagster run that built the serving index) the details
    link to them, and name the query id `docsearch lineage` traces."""
    meta = result.metadata
    snippet = " ".join(result.snippet.html().split())  # Snippet.html() escapes the text
    details = " · ".join(
        esc(x)
        for x in (
            meta.get("path", result.doc_id),
            meta.get("format", ""),
            str(meta.get("modified", ""))[:10],
        )
        if x
    )
    remembered = (
        f" · chosen by users for a similar question ({fmt_score(result.memory_score)})"
        if result.memory_score
        else ""
    )
    return (
        f'<div class="ds-result"><div style="font-size:1.1rem;font-weight:600">'
        f"{result.rank}. {esc(result.title or result.doc_id)}</div>"
        f'<div style="color:#5f6368;font-size:0.85rem">{details}</div>'
        f'<div style="margin:0.3rem 0">{snippet}</div>'
        f'<div style="color:#5f6368;font-size:0.8rem">score {fmt_score(result.score)} · '
        f"BM25 {fmt_score(result.bm25_score)} · dense {fmt_score(result.dense_score)}"
        f"{remembered}</div>{lineage_html(lineage, query_id)}</div>"
    )


def lineage_html(lineage: Mapping[str, str] | None, query_id: int | None = None) -> str:
    """Links to the runs behind the serving index (escaped; opened in a new tab)."""
    if not lineage:
        return ""
    links = " · ".join(
        f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">{esc(label)}</a>'
        for label, url in lineage.items()
    )
    asked = f"query {int(query_id)} · " if query_id is not None else ""
    return f'<div class="ds-lineage" style="color:#5f6368;font-size:0.75rem">{asked}{links}</div>'


def answer_html(answer: Answer, query_id: int | None = None) -> str:
    """The answer text, escaped, with each [n] turned into a link to its source document."""
    by_number = {p.number: p for p in answer.sources}

    def link(match: re.Match) -> str:
        passage = by_number.get(int(match.group(1)))
        if passage is None:
            return match.group(0)
        href = html.escape(document_href(passage.doc_id, query_id, "citation"))
        title = html.escape(passage.title, quote=True)
        return f'<a href="{href}" target="_blank" rel="noopener" title="{title}">[{passage.number}]</a>'

    return f'<div class="ds-answer">{_CITATION.sub(link, esc(answer.text))}</div>'


def sources_html(answer: Answer, query_id: int | None = None) -> str:
    """The numbered list of sources, cited ones first-class, each linking to its document."""
    cited = {p.number for p in answer.cited()}
    items = []
    for p in answer.sources:
        href = html.escape(document_href(p.doc_id, query_id, "citation"))
        weight = "600" if p.number in cited else "400"
        items.append(
            f'<div style="font-size:0.85rem;font-weight:{weight}">[{p.number}] '
            f'<a href="{href}" target="_blank" rel="noopener">{esc(p.title or p.doc_id)}</a> '
            f'<span style="color:#5f6368">{esc(p.path)}</span></div>'
        )
    return '<div class="ds-sources">' + "".join(items) + "</div>"


def empty_message(query: str, filtered: bool, method: str) -> str:
    """Why a search returned nothing and what to try (plain text, no Markdown)."""
    if not query.strip():
        return "Type a question or some keywords to search."
    if filtered:
        return (
            "No document matches these filters. Clear the format, folder or date filters, "
            "or widen the date range, then search again."
        )
    if method == "bm25":
        return (
            "No document contains these words. Check the spelling, use fewer or more common "
            "words, or switch the method to hybrid or dense to match by meaning."
        )
    return "Nothing matched. Try other words, fewer words, or check the spelling."
