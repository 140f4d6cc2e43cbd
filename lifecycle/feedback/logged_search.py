"""The one logging path of searches: the app, the chat page and any feedback simulator search
through ``search_and_log``, so every result list people saw is in the feedback store."""

from __future__ import annotations

import dataclasses
import json
import time

from lifecycle.feedback.store import FeedbackStore
from search.chat.superseded import with_replacements
from search.index import ResultPage, SearchIndex, SearchResult
from search.index.forgiving import forgiving_page
from search.retrieval import Filters
from search.retrieval.forgiving import Forgiven


def search_and_log(
    index: SearchIndex,
    store: FeedbackStore,
    query: str,
    session_id: str,
    version: str,
    k: int = 10,
    method: str | None = None,
    filters: Filters | None = None,
    source: str = "search",
    user: str | None = None,
) -> tuple[int, list[SearchResult]]:
    """Search and record the query with what was shown and who asked (the session, and the
    signed-in ``user`` when there is one). Returns (query_id, results)."""
    started = time.perf_counter()
    results = index.search(query, k=k, method=method, filters=filters)
    query_id = log_search(
        store, query, session_id, version, k, method, filters, source, started, results, user
    )
    return query_id, results


def search_and_log_forgiving(
    index: SearchIndex,
    store: FeedbackStore,
    query: str,
    session_id: str,
    version: str,
    *,
    weaker: bool = False,
    correct: bool = True,
    k: int = 10,
    method: str | None = None,
    filters: Filters | None = None,
    source: str = "search",
    user: str | None = None,
) -> tuple[int, Forgiven[ResultPage]]:
    """The first ``k`` results of ``query`` above the relevance floor (every result with
    ``weaker``; ``SearchIndex.search_page``), logged, with spelling correction from the
    corpus's vocabulary: a correction's results replace the query's when their best result is
    clearly likelier to be relevant (``corrected_query`` says so); a correction that does
    better by less is offered as ``did_you_mean``. Only words of documents that ``filters``
    allows are suggested. The query is logged as typed, with the results shown."""
    started = time.perf_counter()
    found = served_results(index, query, k, method, filters, weaker, correct)
    query_id = log_search(
        store, query, session_id, version, k, method, filters, source, started,
        found.results.results, user,
    )  # fmt: skip
    return query_id, found


def served_results(
    index: SearchIndex,
    query: str,
    k: int = 10,
    method: str | None = None,
    filters: Filters | None = None,
    weaker: bool = False,
    correct: bool = True,
) -> Forgiven[ResultPage]:
    """What the search service shows from one index version, not logged: the first ``k``
    results under ``filters`` (the reader's permissions among them) above the relevance floor,
    spelling forgiven. An interleaved experiment (``lifecycle.experiments``) calls this for
    each version, so whatever the service filters holds for both. A result that a document
    the reader may open says it replaces names that document (``SearchResult.replaced_by``)."""
    found = forgiving_page(index, query, k, method, filters, weaker, correct=correct)
    page = found.results
    shown = with_replacements(index, page.results, filters)
    return dataclasses.replace(found, results=dataclasses.replace(page, results=shown))


def log_search(
    store: FeedbackStore,
    query: str,
    session_id: str,
    version: str,
    k: int,
    method: str | None,
    filters: Filters | None,
    source: str,
    started: float,
    results: list[SearchResult],
    user: str | None,
) -> int:
    """Record `query` with the results shown; the latency counts from `started`."""
    latency_ms = (time.perf_counter() - started) * 1000
    return store.log_query(
        session_id=session_id,
        query=query,
        index_version=version,
        method=str(method or "hybrid"),
        latency_ms=latency_ms,
        results=results,
        k=k,
        source=source,
        filters=_filters_json(filters),
        user=user,
    )


def _filters_json(filters: Filters | None) -> dict | None:
    if filters is None or filters.is_empty():
        return None
    out = {
        "formats": sorted(filters.formats),
        "path_prefix": filters.path_prefix,
        "modified_after": filters.modified_after,
        "modified_before": filters.modified_before,
    }
    return json.loads(json.dumps({k: v for k, v in out.items() if v}))
