import math

import pytest

from evaluation.compare import compare
from evaluation.metrics import evaluate


def test_metrics_match_hand_computation():
    qrels = {"q1": {"a": 1, "c": 1}, "q2": {"x": 1}}
    run = {"q1": {"a": 0.9, "b": 0.8, "c": 0.7}, "q2": {"y": 0.5, "z": 0.4}}
    ev = evaluate(run, qrels)
    # q1: DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) = 1.6309
    ndcg_q1 = 1.5 / (1 + 1 / math.log2(3))
    assert ev.per_query["q1"]["ndcg_at_10"] == pytest.approx(ndcg_q1, abs=1e-4)
    assert ev.per_query["q1"]["recall_at_100"] == 1.0
    assert ev.per_query["q1"]["mrr_at_10"] == 1.0
    # q2 finds nothing relevant
    assert ev.per_query["q2"] == {"ndcg_at_10": 0.0, "recall_at_100": 0.0, "mrr_at_10": 0.0}
    assert ev.mean["ndcg_at_10"] == pytest.approx(ndcg_q1 / 2, abs=1e-4)
    assert ev.n_queries == 2


def test_mrr_counts_rank_of_first_relevant_and_missing_queries_score_zero():
    ev = evaluate({"q1": {"b": 3.0, "a": 2.0}}, {"q1": {"a": 1}, "q2": {"a": 1}})
    assert ev.per_query["q1"]["mrr_at_10"] == 0.5  # first relevant at rank 2
    assert ev.per_query["q2"]["ndcg_at_10"] == 0.0


def test_compare_paired():
    qrels = {f"q{i}": {"a": 1} for i in range(20)}
    worse = evaluate({q: {"b": 2.0, "a": 1.0} for q in qrels}, qrels)  # MRR 0.5 everywhere
    better = evaluate({q: {"a": 2.0, "b": 1.0} for q in qrels}, qrels)  # MRR 1.0 everywhere
    deltas = {d.metric: d for d in compare(worse, better)}
    assert deltas["mrr_at_10"].delta == pytest.approx(0.5)
    assert deltas["recall_at_100"].delta == 0.0 and not deltas["recall_at_100"].significant


def test_judged_only_scores_condensed_lists():
    # d1 relevant, d2 judged not relevant; x and y were never judged (nobody saw them)
    qrels = {"q": {"d1": 1, "d2": 0}}
    run = {"q": {"x": 4.0, "d2": 3.0, "y": 2.0, "d1": 1.0}}
    plain = evaluate(run, qrels).per_query["q"]
    condensed = evaluate(run, qrels, judged_only=True).per_query["q"]
    assert plain["mrr_at_10"] == pytest.approx(1 / 4)
    assert plain["ndcg_at_10"] == pytest.approx(1 / math.log2(5))
    # condensed list: d2, d1 -> the relevant document at rank 2
    assert condensed["mrr_at_10"] == pytest.approx(1 / 2)
    assert condensed["ndcg_at_10"] == pytest.approx(1 / math.log2(3))


def test_flat_metrics_name_each_mean_by_set():
    from evaluation import METRICS, Evaluation, flat_metrics

    sample = Evaluation({"ndcg_at_10": 0.5, "recall_at_100": 1.0, "mrr_at_10": 0.25}, {})
    scifact = Evaluation({"ndcg_at_10": 0.7, "recall_at_100": 0.9, "mrr_at_10": 0.6}, {})
    flat = flat_metrics({"sample": sample, "scifact": scifact})
    assert flat == {
        "sample/ndcg_at_10": 0.5,
        "sample/recall_at_100": 1.0,
        "sample/mrr_at_10": 0.25,
        "scifact/ndcg_at_10": 0.7,
        "scifact/recall_at_100": 0.9,
        "scifact/mrr_at_10": 0.6,
    }
    assert {k.split("/")[1] for k in flat} == set(METRICS)
