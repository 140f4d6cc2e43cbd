"""Comparing two evaluations of the same queries: deltas and a paired significance test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from evaluation.metrics import METRICS, Evaluation


@dataclass(frozen=True)
class MetricDelta:
    metric: str
    a: float
    b: float
    delta: float  # b - a
    p_value: float  # two-sided paired t-test over per-query values
    significant: bool  # p < alpha


def compare(a: Evaluation, b: Evaluation, alpha: float = 0.05) -> list[MetricDelta]:
    """Per-metric change from ``a`` to ``b`` with a paired two-sided t-test (Smucker et al. 2007)."""
    queries = sorted(set(a.per_query) & set(b.per_query))
    out = []
    for metric in METRICS:
        xa = np.array([a.per_query[q][metric] for q in queries])
        xb = np.array([b.per_query[q][metric] for q in queries])
        if len(queries) < 2 or np.allclose(xa, xb):
            p = 1.0
        else:
            p = float(stats.ttest_rel(xb, xa).pvalue)
            p = 1.0 if np.isnan(p) else p
        out.append(
            MetricDelta(
                metric,
                float(xa.mean()) if len(xa) else 0.0,
                float(xb.mean()) if len(xb) else 0.0,
                float(xb.mean() - xa.mean()) if len(xa) else 0.0,
                p,
                p < alpha,
            )
        )
    return out
