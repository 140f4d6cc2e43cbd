"""Evaluate an index on a labeled set: build or reuse it, run the queries, score the run."""

from __future__ import annotations

import time
from pathlib import Path

from evaluation.beir import LabeledSet, load_labeled_set
from evaluation.metrics import Evaluation, evaluate
from search.config import IndexConfig, Method
from search.index import SearchIndex
from search.progress import ProgressPrinter
from search.settings import Settings


def evaluate_index(
    index: SearchIndex, labeled: LabeledSet, method: Method | str = Method.HYBRID, **options
) -> Evaluation:
    run = index.run(labeled.queries, k=100, method=method, **options)
    return evaluate(run, labeled.qrels)


def index_name_for(dataset: str | Path) -> str:
    return f"eval-{Path(dataset).resolve().name}"


def evaluate_dataset(
    dataset: str | Path,
    split: str,
    method: Method,
    config: IndexConfig,
    settings: Settings,
) -> dict:
    """What ``docsearch eval`` prints: metrics plus what was measured and how long it took."""
    from search.index import IndexStore, build_or_reuse

    started = time.perf_counter()
    labeled = load_labeled_set(dataset, split)
    store = IndexStore(settings.index_root(index_name_for(dataset)))
    built = build_or_reuse(labeled.documents, config, settings, store, progress=ProgressPrinter())
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
