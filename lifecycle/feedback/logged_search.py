"""The one logging path of searches: the app, the chat page and any feedback simulator search
through ``search_and_log``, so every result list people saw is in the feedback store."""

from __future__ import annotations

import json
import time

from lifecycle.feedback.store import FeedbackStore
from search.index import SearchIndex, SearchResult
from search.retrieval import Filters
from search.retrieval.spelling import (
    Forgiven,
    corrector_for,
    readable_words,
    search_forgiving,
)


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
    k: int = 10,
    method: str | None = None,
    filters: Filters | None = None,
    source: str = "search",
    user: str | None = None,
) -> tuple[int, Forgiven[SearchResult]]:
    """``search_and_log`` with spelling correction from the corpus's vocabulary: the results
    come with ``did_you_mean``, and are for ``corrected_query`` when the query's own words
    were mostly unknown to the corpus. Only words of documents that ``filters`` allows are
    suggested. The query is logged as typed."""
    started = time.perf_counter()
    found = served_results(index, query, k=k, method=method, filters=filters)
    results = found.results
    query_id = log_search(
        store, query, session_id, version, k, method, filters, source, started, results, user
    )
    return query_id, found


def served_results(
    index: SearchIndex,
    query: str,
    k: int = 10,
    method: str | None = None,
    filters: Filters | None = None,
) -> Forgiven[SearchResult]:
    """What the search service shows from one index version, not logged: the results under
    ``filters`` (the reader's permissions among them), spelling forgiven. An interleaved
    experiment (``lifecycle.experiments``) calls this for each version, so whatever the
    service filters holds for both."""
    return search_forgiving(
        lambda text: index.search(text, k=k, method=method, filters=filters),
        corrector_for(index),
        query,
        readable_words(index, index.selections.masks(filters)[0]),
    )


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
