"""One page of results above the relevance floor, forgiving misspellings: what every interface
searches through (the app, the REST API, ``docsearch search``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from search.config import Fusion, Method
from search.index.query import ResultPage
from search.retrieval import Filters
from search.retrieval.forgiving import (
    Forgiven,
    corrector_for,
    readable_words,
    search_forgiving,
)

if TYPE_CHECKING:
    from search.index.search_index import SearchIndex


def forgiving_page(
    index: SearchIndex,
    query: str,
    k: int = 10,
    method: Method | str | None = None,
    filters: Filters | None = None,
    weaker: bool = False,
    wait: float | None = None,
    fusion: Fusion | str | None = None,
    correct: bool = True,
) -> Forgiven[ResultPage]:
    """The first ``k`` results of ``query`` above the relevance floor (every result with
    ``weaker``; ``SearchIndex.search_page``), with spelling correction from the corpus's
    vocabulary: a correction's results replace the query's when their best result is clearly
    likelier to be relevant (``corrected_query`` says so); one that does better by less is
    offered as ``did_you_mean``. Only words of documents ``filters`` allows are suggested.
    ``wait``: seconds to wait for the index's corrector on first use (None: the default);
    ``correct=False``: the query exactly as typed (the reader's "Search instead for")."""
    corrector = corrector_for(index) if wait is None else corrector_for(index, wait=wait)
    if not correct:
        corrector = None
    return search_forgiving(
        lambda text: index.search_page(text, k, 0, method, filters, weaker, fusion),
        corrector,
        query,
        readable_words(index, index.selections.masks(filters)[0]),
        confidence=confidence,
    )


def confidence(page: ResultPage) -> float | None:
    """How good a page of results is for choosing between spellings: the relevance of its
    best result, shown or held back; None without a relevance model."""
    if page.floor is None:
        return None
    return page.best or 0.0
