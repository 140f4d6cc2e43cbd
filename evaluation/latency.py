"""Query latency of an index: one query at a time, as a user sends them."""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from search.config import Method
from search.index import SearchIndex


def query_latency(
    index: SearchIndex, queries: Iterable[str], k: int = 10, method: Method | str = Method.HYBRID
) -> dict[str, float]:
    """``{"query_latency_p50_ms", "query_latency_p95_ms"}`` over ``queries`` (one warm-up first)."""
    texts = [q for q in queries if q]
    if not texts:
        return {}
    index.search(texts[0], k=k, method=method)  # warm-up: first-call costs are not latency
    times = []
    for text in texts:
        started = time.perf_counter()
        index.search(text, k=k, method=method)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "query_latency_p50_ms": float(np.percentile(times, 50)),
        "query_latency_p95_ms": float(np.percentile(times, 95)),
    }
