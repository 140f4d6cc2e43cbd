"""Evaluate an index on labeled sets: run the queries, score the run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from evaluation.beir import LabeledSet, documents_location, load_labeled_set
from evaluation.datasets import index_for_labeled_set
from evaluation.latency import query_latency
from evaluation.metrics import Evaluation, evaluate
from search.config import IndexConfig, Method
from search.index import SearchIndex
from search.progress import ProgressFn, ProgressPrinter
from search.settings import Settings

__all__ = [
    "VersionEvaluation",
    "evaluate_dataset",
    "evaluate_index",
    "evaluate_version",
]


def evaluate_index(
    index: SearchIndex, labeled: LabeledSet, method: Method | str = Method.HYBRID, **options
) -> Evaluation:
    run = index.run(labeled.queries, k=100, method=method, **options)
    return evaluate(run, labeled.qrels)


def evaluate_dataset(
    dataset: str | Path,
    split: str,
    method: Method,
    config: IndexConfig,
    settings: Settings,
) -> dict:
    """What ``docsearch eval`` prints: metrics plus what was measured and how long it took."""
    started = time.perf_counter()
    labeled = load_labeled_set(dataset, split, with_documents=False)  # a missing split fails first
    built = index_for_labeled_set(dataset, settings, config, progress=ProgressPrinter())
    evaluation = evaluate_index(built.index, labeled, method)
    return {
        **{m: round(v, 4) for m, v in evaluation.mean.items()},
        "method": method.value,
        "fusion": config.fusion.value if method == Method.HYBRID else None,
        "dataset": labeled.name,
        "split": split,
        "n_queries": evaluation.n_queries,
        "index_version": built.version,
        "index_reused": built.reused,
        "seconds": round(time.perf_counter() - started, 2),
    }


@dataclass(frozen=True)
class VersionEvaluation:
    """An index version's quality on each labeled set, and its query latency."""

    evaluations: dict[str, Evaluation]  # by set name
    latency: dict[str, float]  # evaluation.latency's keys


def evaluate_version(
    index: SearchIndex,
    labeled_sets: Mapping[str, str | Path],
    settings: Settings,
    config: IndexConfig,
    *,
    progress: ProgressFn | None = None,
    log: Callable[[str], None] | None = None,
) -> VersionEvaluation:
    """Each labeled set (name -> BEIR-layout folder) scored with ``index`` when the set's
    documents are the folder the index was built from (``settings.docs``); any other set with
    its own index, built with ``config`` and the index's encoder (``index_for_labeled_set``),
    so its figures measure this build's configuration. Latency is ``index``'s on the first
    set's queries."""
    evaluations, first = {}, None
    for name, root in labeled_sets.items():
        labeled = load_labeled_set(root, with_documents=False)
        first = first or labeled
        subject = index
        if documents_location(root).resolve() != settings.docs.resolve():
            subject = index_for_labeled_set(
                root, settings, config, encoder=index.encoder, progress=progress
            ).index
        evaluations[name] = evaluate_index(subject, labeled)
        if log:
            log(f"{name} ({root}): {evaluations[name].mean}")
    latency = query_latency(index, first.queries.values()) if first else {}
    return VersionEvaluation(evaluations, latency)
