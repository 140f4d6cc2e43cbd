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


def relevance(result: SearchResult) -> float:
    """The one score a person sees, the same in the app, the REST API and the command line:
    the calibrated probability that the result is relevant (``SearchResult.shown_score``; 0-1
    on one scale for every query and method, never higher than the result above it)."""
    return result.shown_score


def score_text(result: SearchResult) -> str:
    """E.g. "match 0.61": ``relevance``, with the raw scores in ``result_html``'s tooltip."""
    return f"match {relevance(result):.2f}"


def correction_message(corrected: str | None, did_you_mean: str | None, query: str) -> str:
    """What the page says about spelling (plain text): the results are for a correction, or a
    correction is offered; "" when neither."""
    if corrected:
        return f"Showing results for “{corrected}”. Search instead for “{query}”."
    if did_you_mean:
        return f"Did you mean “{did_you_mean}”?"
    return ""


def held_back_message(held_back: int, weaker: bool) -> str:
    """The line under the results about the matches below the relevance floor."""
    if weaker:
        return "Weaker matches below the relevance floor are included."
    if held_back:
        noun = "match" if held_back == 1 else "matches"
        return f"{held_back} weaker {noun} below the relevance floor held back."
    return ""


def passage_number(chunk_id: str) -> int | None:
    """The passage's position in its document from a chunk id ("<doc_id>#<position>")."""
    tail = chunk_id.rpartition("#")[2]
    return int(tail) if tail.isdigit() else None


def document_href(
    doc_id: str, query_id: int | None = None, kind: str = "open", passage: int | None = None
) -> str:
    """Link to the document page; with a query id the visit is logged as a click of ``kind``
    (at the rank the server recorded: a link carries no rank); with a passage the page opens
    there, highlighted."""
    params = {"doc": doc_id, "kind": kind}
    if query_id is not None:
        params["qid"] = str(query_id)
    if passage is not None:
        params["passage"] = str(passage)
    return "document?" + urlencode(params)


def document_html(chunks, passage: int | None = None, window: tuple[int, int] | None = None) -> str:
    """A document's text from its chunks (overlaps removed, as ``SearchIndex.document_text``),
    escaped, line breaks kept, the passage at position ``passage`` in <mark id="ds-passage">:
    only its ``window`` (character offsets within the passage: the snippet the result showed)
    when given, else the whole passage."""
    parts: list[str] = []
    covered = 0
    for chunk in chunks:
        if parts and chunk.start > covered:
            parts.append(" ")
        cut = max(0, covered - chunk.start)
        new = html.escape(chunk.text[cut:])
        if chunk.position == passage:
            # the overlap with the previous passage is marked too: the whole passage shows
            before = html.escape(chunk.text[:cut])
            if before and parts and parts[-1].endswith(before):
                parts[-1] = parts[-1][: len(parts[-1]) - len(before)]
                cut = 0
            new = _marked(chunk.text, cut, window)
        parts.append(new)
        covered = max(covered, chunk.end)
    return '<div class="ds-document" style="white-space:pre-wrap">' + "".join(parts) + "</div>"


def _marked(text: str, cut: int, window: tuple[int, int] | None) -> str:
    """``text[cut:]`` escaped, its ``window`` (or all of it) in the passage's <mark>."""
    start, end = window if window and 0 <= window[0] < window[1] <= len(text) else (0, len(text))
    start, end = max(start, cut), max(end, cut)
    return (
        html.escape(text[cut:start])
        + f'<mark id="ds-passage">{html.escape(text[start:end])}</mark>'
        + html.escape(text[end:])
    )


def window_param(result: SearchResult) -> str | None:
    """The snippet's window as a link parameter ("start-end"), None when it has none."""
    window = result.snippet.window
    return f"{window[0]}-{window[1]}" if window else None


def parse_window(value: str) -> tuple[int, int] | None:
    """``window_param``'s value back (None when malformed: the whole passage then)."""
    start, _, end = value.partition("-")
    digits = lambda text: text.isascii() and text.isdigit() and len(text) <= 9  # noqa: E731
    if digits(start) and digits(end) and int(start) < int(end):
        return int(start), int(end)
    return None


def result_html(
    result: SearchResult,
    lineage: Mapping[str, str] | None = None,
    query_id: int | None = None,
    score: str | None = None,
) -> str:
    """Title, path, highlighted snippet and one score (``score``, e.g. ``score_text``'s; the
    retrievers' raw scores on their own scales in its tooltip); with ``lineage`` (label ->
    address: the MLflow run and the Dagster run that built the serving index) the details link
    to them, and name the query id `docsearch lineage` traces."""
    meta = result.metadata
    parts = f"fused {fmt_score(result.score)} · BM25 {fmt_score(result.bm25_score)} · " + (
        f"dense {fmt_score(result.dense_score)}"
    )
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
    details += source_html(meta)
    remembered = (
        f" · chosen by users for a similar question ({fmt_score(result.memory_score)})"
        if result.memory_score
        else ""
    )
    replaced = "".join(
        f'<div class="ds-replaced" style="color:#b06000;font-size:0.85rem">'
        f"Replaced by {esc(title)} ({esc(doc_id)}), which says it replaces this document</div>"
        for doc_id, title in result.replaced_by
    )
    return (
        f'<div class="ds-result"><div style="font-size:1.1rem;font-weight:600">'
        f"{result.rank}. {esc(result.title or result.doc_id)}</div>"
        f'<div style="color:#5f6368;font-size:0.85rem">{details}</div>{replaced}'
        f'<div style="margin:0.3rem 0">{snippet}</div>'
        f'<div style="color:#5f6368;font-size:0.8rem">'
        f'<span class="ds-score" title="{esc(parts)}">{esc(score or parts)}</span>'
        f"{remembered}</div>{lineage_html(lineage, query_id)}</div>"
    )


def original_link(metadata: Mapping) -> str | None:
    """The address "open the original" goes to: a web page's or a WebDAV library's own
    (http or https only); None for other documents (S3, SMB and folder documents are
    downloaded, through the reader's permission check)."""
    link = str(metadata.get("source_link") or "")
    return link if link.startswith(("http://", "https://")) else None


def source_html(metadata: Mapping) -> str:
    """ " · source NAME" and, where there is one, a link to the original (escaped)."""
    if not metadata.get("source"):
        return ""
    link = original_link(metadata)
    opened = (
        f' · <a href="{esc(link)}" target="_blank" rel="noopener noreferrer">open the original</a>'
        if link
        else ""
    )
    return f" · source {esc(metadata['source'])}{opened}"


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
        href = html.escape(
            document_href(passage.doc_id, query_id, "citation", passage_number(passage.chunk_id))
        )
        title = html.escape(passage.title, quote=True)
        return f'<a href="{href}" target="_blank" rel="noopener" title="{title}">[{passage.number}]</a>'

    return f'<div class="ds-answer">{_CITATION.sub(link, esc(answer.text))}</div>'


def sources_html(answer: Answer, query_id: int | None = None) -> str:
    """The numbered list of sources, cited ones first-class, each linking to its document; ""
    for an answer that declined (the passages searched did not answer: none is a source)."""
    if not answer.answered:
        return ""
    cited = {p.number for p in answer.cited()}
    items = []
    for p in answer.sources:
        href = html.escape(
            document_href(p.doc_id, query_id, "citation", passage_number(p.chunk_id))
        )
        weight = "600" if p.number in cited else "400"
        items.append(
            f'<div style="font-size:0.85rem;font-weight:{weight}">[{p.number}] '
            f'<a href="{href}" target="_blank" rel="noopener">{esc(p.title or p.doc_id)}</a> '
            f'<span style="color:#5f6368">{esc(p.path)}</span></div>'
        )
    return '<div class="ds-sources">' + "".join(items) + "</div>"


def filters_message(counts: Mapping[str, int], described: Mapping[str, str]) -> str:
    """Why filters leave nothing to search, from ``filter_counts``: the filter that matches no
    document alone, or the ones that match documents alone but none together ("" when the
    filters do match documents). ``described``: each filter in words ("format markdown")."""
    if counts.get("all", 1) > 0:
        return ""
    alone = {name: n for name, n in counts.items() if name != "all"}
    empty = [described[name] for name, n in alone.items() if n == 0]
    if empty:
        return f"No document you may read has {' and '.join(empty)}. Clear or change it."
    parts = ", ".join(f"{described[name]} alone matches {n}" for name, n in alone.items())
    return f"These filters contradict each other: {parts}, but no document matches all of them."


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
