"""Query latency of an index: one query at a time, as a user sends them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np

from search.config import Method
from search.index import SearchIndex

LATENCY_P50 = "query_latency_p50_ms"
LATENCY_P95 = "query_latency_p95_ms"


def query_latency(
    index: SearchIndex,
    queries: Iterable[str],
    k: int = 10,
    method: Method | str = Method.HYBRID,
    limit: int | None = None,
) -> dict[str, float]:
    """``{LATENCY_P50: ms, LATENCY_P95: ms}`` over the first ``limit`` non-empty ``queries`` (all by default),
    each searched alone for its top ``k``, after one warm-up search that is not timed
    (first-call costs are not latency). Empty when there is no query.

    The one latency measurement: ``make bench`` prints these keys, the Dagster evaluation asset
    writes them as metadata and the MLflow run logs them as metrics.
    """
    times = _timed(lambda text: index.search(text, k=k, method=method), queries, limit)
    return _percentiles(times, LATENCY_P50, LATENCY_P95)


def _timed(search: Callable[[str], object], queries: Iterable[str], limit: int | None) -> list:
    """Milliseconds of each of the first ``limit`` non-empty queries, after an untimed one."""
    texts = [q for q in queries if q][:limit]
    if not texts:
        return []
    search(texts[0])
    times = []
    for text in texts:
        started = time.perf_counter()
        search(text)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _percentiles(times: list, p50: str, p95: str) -> dict[str, float]:
    if not times:
        return {}
    return {p50: float(np.percentile(times, 50)), p95: float(np.percentile(times, 95))}


FILTERED_P50 = "filtered_query_latency_p50_ms"
FILTERED_P95 = "filtered_query_latency_p95_ms"
BENCH_PRINCIPAL = "user:bench"


def filtered_query_latency(
    index: SearchIndex,
    queries: Iterable[str],
    share: float = 0.01,
    k: int = 10,
    method: Method | str = Method.HYBRID,
    limit: int | None = None,
) -> dict[str, float]:
    """``query_latency`` for a reader allowed ``share`` of the documents (every
    ``round(1 / share)``-th document in index order, at least one): the cost of access control
    enforced inside retrieval, to set beside the unrestricted figure. Keys FILTERED_P50 and
    FILTERED_P95."""
    from search.retrieval import Filters

    step = max(1, round(1 / share))
    readers = {d: [BENCH_PRINCIPAL] for d in index.doc_ids[::step]}
    restricted = index.with_access(readers, f"bench-{share}")
    filters = Filters(principals=frozenset({BENCH_PRINCIPAL}))
    times = _timed(
        lambda text: restricted.search(text, k=k, method=method, filters=filters), queries, limit
    )
    return _percentiles(times, FILTERED_P50, FILTERED_P95)
