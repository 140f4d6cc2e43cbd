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
