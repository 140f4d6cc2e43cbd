"""Retrieval metrics from pytrec_eval, under the project's one naming scheme."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pytrec_eval

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]

# Our names -> trec_eval measures. nDCG@10 (Järvelin and Kekäläinen 2002) with graded gains;
# recall@100 = |relevant ∩ top100| / |relevant|; MRR@10 = mean of 1/rank of the first relevant
# document within the top 10 (0 when none).
METRICS = ("ndcg_at_10", "recall_at_100", "mrr_at_10")
_TREC = {"ndcg_at_10": "ndcg_cut_10", "recall_at_100": "recall_100"}


@dataclass(frozen=True)
class Evaluation:
    """Mean metrics and the per-query values behind them."""

    mean: dict[str, float]
    per_query: dict[str, dict[str, float]]

    @property
    def n_queries(self) -> int:
        return len(self.per_query)


def evaluate(run: Run, qrels: Qrels, judged_only: bool = False) -> Evaluation:
    """Score a run against judgements. Queries with judgements but no results score 0.

    ``judged_only`` scores condensed lists: documents without a judgement (relevant or not) are
    removed from each ranking first (trec_eval -J; Sakai, SIGIR 2007). For judgements taken from
    clicks on one system's results, this compares systems on the documents users actually saw
    instead of counting every unseen document a system retrieves as a miss.
    """
    evaluator = pytrec_eval.RelevanceEvaluator(
        qrels, {"ndcg_cut.10", "recall.100"}, judged_docs_only_flag=judged_only
    )
    # trec_eval breaks ties by document id; make ranks explicit so ties follow our order.
    ranked = {q: _strictly_decreasing(docs) for q, docs in run.items() if q in qrels}
    for q in qrels:
        ranked.setdefault(q, {})
    raw = evaluator.evaluate({q: d for q, d in ranked.items() if d}) if any(ranked.values()) else {}
    per_query: dict[str, dict[str, float]] = {}
    for q in qrels:
        values = raw.get(q, {})
        per_query[q] = {
            "ndcg_at_10": float(values.get("ndcg_cut_10", 0.0)),
            "recall_at_100": float(values.get("recall_100", 0.0)),
            "mrr_at_10": _mrr_at_10(run.get(q, {}), qrels[q], judged_only),
        }
    mean = {
        m: float(np.mean([v[m] for v in per_query.values()])) if per_query else 0.0 for m in METRICS
    }
    return Evaluation(mean=mean, per_query=per_query)


def flat_metrics(evaluations: Mapping[str, Evaluation]) -> dict[str, float]:
    """``{"<set>/<metric>": mean}`` over evaluations by set name: the keys MLflow runs, Dagster
    metadata and the gate use (``sample/ndcg_at_10``)."""
    return {f"{name}/{m}": v for name, ev in evaluations.items() for m, v in ev.mean.items()}


def _strictly_decreasing(docs: dict[str, float]) -> dict[str, float]:
    ordered = sorted(docs.items(), key=lambda item: -item[1])
    n = len(ordered)
    return {doc: float(n - i) for i, (doc, _) in enumerate(ordered)}


def _mrr_at_10(docs: dict[str, float], relevant: dict[str, int], judged_only: bool) -> float:
    if judged_only:
        docs = {d: s for d, s in docs.items() if d in relevant}
    ordered = sorted(docs.items(), key=lambda item: -item[1])[:10]
    for rank, (doc, _) in enumerate(ordered, start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0
