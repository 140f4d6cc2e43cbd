"""Retrieval quality on labeled queries: BEIR-layout sets, metrics, paired comparison, latency."""

from evaluation.beir import LabeledSet, load_labeled_set
from evaluation.compare import MetricDelta, compare
from evaluation.metrics import METRICS, Evaluation, evaluate

__all__ = [
    "METRICS",
    "Evaluation",
    "LabeledSet",
    "MetricDelta",
    "compare",
    "evaluate",
    "load_labeled_set",
]
