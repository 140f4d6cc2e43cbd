"""Result HTML: the score parts, and the feedback memory's part when it recalled the document."""

from app.render import result_html
from search.index import SearchResult
from search.retrieval import Snippet


def _result(memory_score):
    return SearchResult(
        "d1", "Leave <policy>", 1.5, 1, 2.0, 0.5, "d1#0", Snippet("", ()), {}, memory_score
    )


def test_result_shows_why_it_ranks():
    plain = result_html(_result(None))
    assert "Leave &lt;policy&gt;" in plain
    assert "BM25 2.000 · dense 0.500" in plain and "similar question" not in plain
    assert "chosen by users for a similar question (0.750)" in result_html(_result(0.75))


def _from_source(metadata):
    return SearchResult("s/a", "A page", 1.0, 1, 1.0, 0.5, "s/a#0", Snippet("", ()), metadata)


def test_a_sources_document_names_its_source_and_links_only_to_web_originals():
    page = _from_source(
        {"source": "intranet", "source_link": 'https://intranet/a?x=1&y="2"', "path": "intranet/a"}
    )
    shown = result_html(page)
    assert "source intranet" in shown
    assert 'href="https://intranet/a?x=1&amp;y=&quot;2&quot;"' in shown  # escaped
    assert "open the original" in shown
    s3 = result_html(_from_source({"source": "docs", "source_url": "s3://bucket/a.pdf"}))
    assert "source docs" in s3 and "href" not in s3  # downloaded through the app instead
    unsafe = result_html(_from_source({"source": "w", "source_link": "javascript:alert(1)"}))
    assert "href" not in unsafe and "javascript" not in unsafe
    assert "source" not in result_html(_from_source({"path": "handbook.md"}))


def test_a_replaced_result_names_the_document_that_replaces_it():
    import dataclasses

    old = dataclasses.replace(
        _from_source({"path": "circular.txt"}), replaced_by=(("expenses.md", "Travel <2025>"),)
    )
    shown = result_html(old)
    assert "Replaced by Travel &lt;2025&gt; (expenses.md), which says it replaces this" in shown
    assert "Replaced by" not in result_html(_from_source({"path": "expenses.md"}))
