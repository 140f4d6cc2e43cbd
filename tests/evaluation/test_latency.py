"""One latency measurement with one key set, for the bench, Dagster and MLflow alike."""

import json
from pathlib import Path

from evaluation import LATENCY_P50, LATENCY_P95, query_latency

BEIR_TINY = Path(__file__).parents[1] / "fixtures" / "beir_tiny"


class CountingIndex:
    """Stands in for a SearchIndex: records the queries searched."""

    def __init__(self):
        self.searched = []

    def search(self, text, k=10, method="hybrid"):
        self.searched.append((text, k, method))
        return []


def test_latency_keys_and_which_queries_are_timed():
    index = CountingIndex()
    latency = query_latency(index, ["a", "", "b", "c"], k=5, limit=2)
    assert set(latency) == {LATENCY_P50, LATENCY_P95}
    assert (LATENCY_P50, LATENCY_P95) == ("query_latency_p50_ms", "query_latency_p95_ms")
    assert latency[LATENCY_P95] >= latency[LATENCY_P50] >= 0
    # one untimed warm-up with the first query, then the first 2 non-empty queries
    assert index.searched == [("a", 5, "hybrid"), ("a", 5, "hybrid"), ("b", 5, "hybrid")]
    assert query_latency(CountingIndex(), ["", ""]) == {}


def test_the_bench_prints_the_same_latency_keys(home, monkeypatch, capsys):
    from evaluation import bench

    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # main() sets it; restored after the test
    monkeypatch.setattr(
        "sys.argv", ["bench", "--dataset", str(BEIR_TINY), "--latency-queries", "3"]
    )
    # the tiny set alone: every other labeled set (MEDLINE, LISA, NPL...) would encode thousands
    # of documents with the real encoder for the anchors (tests/evaluation/test_bench_quality*)
    monkeypatch.setattr(bench, "labeled_sets", lambda dataset, settings: {"beir_tiny": dataset})
    bench.main()
    out = json.loads(capsys.readouterr().out)
    assert out[LATENCY_P95] >= out[LATENCY_P50] >= 0 and out["latency_queries"] == 3
    assert "query_latency_ms" not in out
    assert (out["documents"], out["chunks"], out["n_queries"]) == (6, 6, 5)
    assert set(out["methods"]) == {"bm25", "dense", "hybrid"}
    assert out["methods"]["bm25"]["mrr_at_10"] == 1.0  # every tiny query's answer is BM25's top
    assert set(out["labeled_sets"]) == {"beir_tiny"}
    assert set(out["labeled_sets"]["beir_tiny"]) == {"tune", "report"}


def test_filtered_latency_times_a_reader_allowed_a_share_of_the_documents(index):
    from evaluation import FILTERED_P50, FILTERED_P95, filtered_query_latency
    from evaluation.latency import BENCH_PRINCIPAL
    from search.retrieval import Filters

    latency = filtered_query_latency(index, ["robot", "", "manual"], share=0.5, k=3)
    assert set(latency) == {FILTERED_P50, FILTERED_P95}
    assert latency[FILTERED_P95] >= latency[FILTERED_P50] >= 0
    assert index.access is None  # measured on a restricted copy; the index is left as it was
    # share 0.5 of 6 documents: every 2nd in index order (rows 0, 2, 4) is readable
    restricted = index.with_access({d: [BENCH_PRINCIPAL] for d in index.doc_ids[::2]}, "b")
    found = restricted.search("robot manual", k=6, filters=Filters.of(principals=[BENCH_PRINCIPAL]))
    assert {r.doc_id for r in found} <= set(index.doc_ids[::2])
    assert filtered_query_latency(index, ["", ""]) == {}
