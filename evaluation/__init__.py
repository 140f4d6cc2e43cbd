"""Retrieval quality on labeled queries: BEIR-layout sets, the index each set runs against,
metrics under one naming scheme, paired comparison, and query latency."""

from evaluation.beir import LabeledSet, load_labeled_set
from evaluation.compare import MetricDelta, compare
from evaluation.datasets import index_for_labeled_set, index_name_for, labeled_set_store
from evaluation.latency import (
    FILTERED_P50,
    FILTERED_P95,
    LATENCY_P50,
    LATENCY_P95,
    filtered_query_latency,
    query_latency,
)
from evaluation.metrics import METRICS, Evaluation, evaluate, flat_metrics
from evaluation.runner import VersionEvaluation, evaluate_index, evaluate_version

__all__ = [
    "METRICS",
    "FILTERED_P50",
    "FILTERED_P95",
    "LATENCY_P50",
    "LATENCY_P95",
    "Evaluation",
    "LabeledSet",
    "MetricDelta",
    "VersionEvaluation",
    "compare",
    "evaluate",
    "evaluate_index",
    "evaluate_version",
    "flat_metrics",
    "index_for_labeled_set",
    "index_name_for",
    "labeled_set_store",
    "load_labeled_set",
    "filtered_query_latency",
    "query_latency",
]
