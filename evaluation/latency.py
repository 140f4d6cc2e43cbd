"""Query latency of an index: one query at a time, as a user sends them."""

from __future__ import annotations

import time
from collections.abc import Iterable

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
    texts = [q for q in queries if q][:limit]
    if not texts:
        return {}
    index.search(texts[0], k=k, method=method)
    times = []
    for text in texts:
        started = time.perf_counter()
        index.search(text, k=k, method=method)
        times.append((time.perf_counter() - started) * 1000)
    return {
        LATENCY_P50: float(np.percentile(times, 50)),
        LATENCY_P95: float(np.percentile(times, 95)),
    }
