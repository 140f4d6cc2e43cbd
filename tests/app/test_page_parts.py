"""The pure parts behind the pages: URL state, pagination, the score scale, the weak-match
notice, the document's highlighted passage and snippet highlighting."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.render import (
    WEAK_MATCH,
    document_html,
    passage_number,
    relevance,
    result_html,
    score_text,
    weak_match,
)
from app.search_params import SearchParams, contradictions
from lifecycle.serving import FROM_LOCAL_STORE, FROM_REGISTRY, Serving, paginate, version_name
from search.chunking import Chunk
from search.index import SearchResult
from search.retrieval import Snippet, make_snippet


def _result(score, bm25=None, dense=None, rank=1):
    return SearchResult("d", "T", score, rank, bm25, dense, "d#2", Snippet("", ()), {})


def test_url_round_trip_and_malformed_values_dropped():
    params = SearchParams("vpn 809", "bm25", ("pdf", "markdown"), "it/", "2024-01-01", "", 3, 17)
    assert params.to_url() == {
        "q": "vpn 809",
        "method": "bm25",
        "formats": "pdf,markdown",
        "folder": "it/",
        "after": "2024-01-01",
        "page": "3",
        "qid": "17",
    }
    assert SearchParams.from_url(params.to_url()) == params
    junk = {"q": " x ", "method": "exe", "page": "-2", "qid": "1e9", "after": "notadate"}
    assert SearchParams.from_url(junk) == SearchParams("x")
    assert SearchParams("x", page=4, qid=9).at_page(5) == SearchParams("x", page=5)


def test_filters_that_match_nothing_together_are_explained():
    from app.render import filters_message

    said = {"format": "format pdf", "folder": "folder hr/", "dates": "modified after 2030-01-01"}
    assert filters_message({"format": 3, "folder": 2, "all": 1}, said) == ""
    assert filters_message({"format": 3, "folder": 2, "all": 0}, said) == (
        "These filters contradict each other: format pdf alone matches 3, folder hr/ alone "
        "matches 2, but no document matches all of them."
    )
    assert filters_message({"format": 0, "dates": 0, "all": 0}, said) == (
        "No document you may read has format pdf and modified after 2030-01-01. Clear or change it."
    )


def test_contradictory_dates():
    today = date(2026, 1, 10)
    assert contradictions("2025-01-01", "2025-12-31", today) == []
    (swapped,) = contradictions("2025-06-01", "2024-01-01", today)
    assert "later than" in swapped and "swap" in swapped
    (future,) = contradictions("2026-02-01", "", today)
    assert "today or later" in future


@pytest.mark.parametrize(
    ("total", "page", "capped", "shown", "label", "has_next"),
    [
        (57, 2, False, 2, "Results 11–20 of 57", True),
        (57, 6, False, 6, "Results 51–57 of 57", False),
        (57, 9, False, 6, "Results 51–57 of 57", False),  # past the end: the last page
        (100, 1, True, 1, "Results 1–10 of 100+", True),
        (0, 3, False, 1, "No results", False),
    ],
)
def test_paginate(total, page, capped, shown, label, has_next):
    pages = paginate(total, page, capped)
    assert (pages.page, pages.label(), pages.has_next) == (shown, label, has_next)
    assert pages.offset == (shown - 1) * 10 and pages.has_previous == (shown > 1)


def test_every_result_on_one_0_to_1_scale():
    # the best passage's cosine, whatever the method or the fused score's list-relative value
    assert relevance(_result(1.0, 7.0, 0.43)) == pytest.approx(0.43)
    assert relevance(_result(0.2, None, -0.1)) == 0.0
    assert relevance(_result(7.0, 7.0, None)) is None
    assert score_text(_result(1.0, 7.0, 0.434)) == "match 0.43"
    assert score_text(_result(7.0, 7.0)) == "match –"
    card = result_html(_result(1.0, 7.0, 0.5), score="match 0.50")
    # the raw parts, each on its own scale, only in the tooltip
    assert 'title="fused 1.000 · BM25 7.000 · dense 0.500">match 0.50<' in card


def test_weak_match_uses_the_best_semantic_similarity():
    strong = [_result(0.4, 3.0, None), _result(0.3, 2.0, WEAK_MATCH + 0.1, rank=2)]
    weak = [_result(1.0, 9.0, WEAK_MATCH - 0.05), _result(0.3, None, 0.1, rank=2)]
    assert not weak_match(strong) and weak_match(weak)
    assert not weak_match([]) and not weak_match([_result(1.0, 9.0)])


def test_document_opens_at_its_passage_highlighted_and_escaped():
    text = "Intro <b>line</b>.\nThe answer: 42 days. Outro."
    chunks = [
        Chunk("d#0", "d", "T", text[:26], 0, 0, 26),
        Chunk("d#1", "d", "T", text[19:40], 1, 19, 40),  # overlaps the first
        Chunk("d#2", "d", "T", text[40:], 2, 40, len(text)),
    ]
    page = document_html(chunks, 1)
    assert '<mark id="ds-passage">The answer: 42 days. </mark>Outro.' in page
    assert "&lt;b&gt;line&lt;/b&gt;" in page and "<b>" not in page
    assert page.count("The answer") == 1 and "Outro." in page
    assert "<mark" not in document_html(chunks, None)
    assert (passage_number("hr/x.md#3"), passage_number("bad")) == (3, None)


def test_stopwords_are_never_highlighted():
    text = "Where does the refund come from? The refund comes from finance."
    snip = make_snippet(text, {"does", "from", "refund"}, lambda w: w)
    marked = {text[s:e] for s, e in snip.highlights}
    assert marked == {"refund"}


def test_citations_open_the_document_at_the_cited_passage():
    from app.render import answer_html, sources_html
    from search.chat import Answer, Passage

    passage = Passage(1, "hr/leave.md", "hr/leave.md#4", "Leave", "hr/leave.md", "text")
    answer = Answer("Sixteen weeks [1].", (passage,), "extractive")
    href = "document?doc=hr%2Fleave.md&amp;kind=citation&amp;qid=5&amp;passage=4"
    assert href in answer_html(answer, 5) and href in sources_html(answer, 5)


def test_the_total_without_a_second_encoding():
    from lifecycle.serving import MAX_RESULTS, count_results
    from search.config import IndexConfig
    from search.encoding import HashingEncoder
    from search.index import SearchIndex
    from search.ingest.model import Document
    from search.retrieval import Filters

    docs = [
        Document(f"d{i}", f"doc {i}", f"{'vpn' if i % 3 == 0 else 'leave'} text {i}", {})
        for i in range(120)
    ]
    index = SearchIndex.build(docs, IndexConfig(model="hashing-128"), HashingEncoder(dim=128))
    assert count_results(index, "vpn", "hybrid") == (MAX_RESULTS, True)  # every document ranks
    assert count_results(index, "vpn", "bm25") == (40, False)  # those with the term
    only = Filters.of(path_prefix="nowhere/")
    assert count_results(index, "vpn", "dense", only) == (0, False)


def test_versions_are_named_for_people_not_by_their_folder_ids():
    today = date(2025, 12, 10)
    champion = Serving("20251204T101112123456Z", "/x", FROM_REGISTRY, "docsearch-index v3")
    assert version_name(champion, today) == "v3, champion"  # the registry did not say since when
    since = replace(champion, since="2025-12-04T10:11:12+00:00")
    assert version_name(since, today) == "v3, champion since 4 Dec"
    assert version_name(since, date(2026, 1, 5)) == "v3, champion since 4 Dec 2025"
    local = Serving("20251204T101112123456Z", "/x", FROM_LOCAL_STORE)
    assert version_name(local, today) == "built 4 Dec, not registered"
    assert version_name(replace(local, version="my-index"), today) == "not registered"
