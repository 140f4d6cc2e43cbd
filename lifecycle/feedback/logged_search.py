"""The one logging path of searches: the app, the chat page and any feedback simulator search
through ``search_and_log``, so every result list people saw is in the feedback store."""

from __future__ import annotations

import json
import time
from typing import TypedDict, Unpack

from lifecycle.feedback.store import FeedbackStore
from search.index import SearchIndex, SearchResult
from search.retrieval import Filters
from search.retrieval.spelling import (
    Forgiven,
    corrector_for,
    readable_words,
    search_forgiving,
)


class SearchOptions(TypedDict, total=False):
    """What a logged search may be asked besides the query, the session and the version."""

    k: int  # how many results (10)
    method: str | None  # the retrieval method (the index's default, hybrid)
    filters: Filters | None
    source: str  # which interface asked ("search")
    user: str | None  # the signed-in user, when there is one


def search_and_log(
    index: SearchIndex,
    store: FeedbackStore,
    query: str,
    session_id: str,
    version: str,
    **options: Unpack[SearchOptions],
) -> tuple[int, list[SearchResult]]:
    """Search and record the query with what was shown and who asked (the session, and the
    signed-in ``user`` when there is one). Returns (query_id, results)."""
    query_id, found = _searched_and_logged(index, store, query, session_id, version, options)
    return query_id, found.results


def search_and_log_forgiving(
    index: SearchIndex,
    store: FeedbackStore,
    query: str,
    session_id: str,
    version: str,
    **options: Unpack[SearchOptions],
) -> tuple[int, Forgiven[SearchResult]]:
    """``search_and_log`` with spelling correction from the corpus's vocabulary: the results
    come with ``did_you_mean``, and are for ``corrected_query`` when the query's own words
    were mostly unknown to the corpus. Only words of documents that ``filters`` allows are
    suggested. The query is logged as typed."""
    return _searched_and_logged(index, store, query, session_id, version, options, forgive=True)


def _searched_and_logged(
    index: SearchIndex,
    store: FeedbackStore,
    query: str,
    session_id: str,
    version: str,
    options: SearchOptions,
    forgive: bool = False,
) -> tuple[int, Forgiven[SearchResult]]:
    """The search (forgiving misspellings or not) and its record; the latency counts both."""
    started = time.perf_counter()
    k, method, filters = options.get("k", 10), options.get("method"), options.get("filters")

    def search(text: str) -> list[SearchResult]:
        return index.search(text, k=k, method=method, filters=filters)

    if forgive:
        admissible = readable_words(index, index.selections.masks(filters)[0])
        found = search_forgiving(search, corrector_for(index), query, admissible)
    else:
        found = Forgiven(search(query))
    query_id = store.log_query(
        session_id=session_id,
        query=query,
        index_version=version,
        method=str(method or "hybrid"),
        latency_ms=(time.perf_counter() - started) * 1000,
        results=found.results,
        k=k,
        source=options.get("source", "search"),
        filters=_filters_json(filters),
        user=options.get("user"),
    )
    return query_id, found


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
