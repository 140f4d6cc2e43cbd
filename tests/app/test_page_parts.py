"""The pure parts behind the pages: URL state, pagination, the score scale, the spelling and
held-back lines, the document's highlighted passage and snippet highlighting."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.render import (
    correction_message,
    document_html,
    held_back_message,
    passage_number,
    relevance,
    result_html,
    score_text,
)
from app.search_params import SearchParams, contradictions
from lifecycle.serving import FROM_LOCAL_STORE, FROM_REGISTRY, Serving, paginate, version_name
from search.chunking import Chunk
from search.index import SearchResult
from search.retrieval import Snippet, make_snippet


def _result(score, bm25=None, dense=None, rank=1, relevance=None):
    return SearchResult(
        "d", "T", score, rank, bm25, dense, "d#2", Snippet("", ()), {}, relevance=relevance
    )


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
    # the calibrated relevance, whatever the method or the fused score's list-relative value
    assert relevance(_result(1.0, 7.0, 0.43, relevance=0.61)) == pytest.approx(0.61)
    assert relevance(_result(0.2, None, -0.1)) == 0.2  # no relevance model: the ranking score
    assert score_text(_result(1.0, 7.0, 0.434, relevance=0.254)) == "match 0.25"
    card = result_html(_result(1.0, 7.0, 0.5, relevance=0.7), score="match 0.70")
    # the raw parts, each on its own scale, only in the tooltip
    assert 'title="fused 1.000 · BM25 7.000 · dense 0.500">match 0.70<' in card


def test_spelling_and_held_back_lines():
    assert correction_message("passwords", "passwords", "paswords") == (
        "Showing results for “passwords”. Search instead for “paswords”."
    )
    assert correction_message(None, "money", "mony") == "Did you mean “money”?"
    assert correction_message(None, None, "vpn") == ""
    assert held_back_message(30, False) == "30 weaker matches below the relevance floor held back."
    assert held_back_message(1, False) == "1 weaker match below the relevance floor held back."
    assert held_back_message(0, False) == ""
    assert held_back_message(0, True).startswith("Weaker matches")


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
    # the result's snippet window in that passage: its own words, not the whole passage
    window = (len("The answer: "), len("The answer: 42 days."))
    assert '<mark id="ds-passage">42 days.</mark> Outro.' in document_html(chunks, 2 - 1, window)
    snippet = make_snippet(
        "# Leave\n" + "x " * 200 + "parental leave is 16 weeks", {"parental"}, str
    )
    start, end = snippet.window
    assert "parental" in ("# Leave\n" + "x " * 200 + "parental leave is 16 weeks")[start:end]
    assert start > len("# Leave")  # the window, not the heading
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
    # a declined answer cites nothing: the passages searched are not listed as its sources
    declined = Answer("The documents do not say.", (passage,), "extractive", answered=False)
    assert sources_html(declined, 5) == ""


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
