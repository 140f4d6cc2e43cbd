"""Monitoring figures computed from a hand-made feedback log."""

import math

import pytest

from lifecycle import monitoring
from lifecycle.feedback import FeedbackStore
from search.index import SearchResult
from search.retrieval import Snippet


def _shown(*doc_ids):
    return [
        SearchResult(d, d, 1.0, r, None, None, f"{d}#0", Snippet("", ()), {})
        for r, d in enumerate(doc_ids, start=1)
    ]


def test_per_version_figures(tmp_path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.sqlite'}")
    log = store.log_query
    # v1: latencies 10, 20, 30, 40 ms; one zero-result query; two of four clicked
    q = [
        log(session_id="s", query=f"q{i}", index_version="v1", method="hybrid",
            latency_ms=ms, results=_shown("a") if ms != 40 else [])
        for i, ms in enumerate((10, 20, 30, 40))
    ]  # fmt: skip
    store.log_click(q[0], "a", 1)
    store.log_click(q[0], "a", 1, kind="download")  # two clicks, one clicked query
    store.log_click(q[1], "a", 1)
    store.log_vote(1, query_id=q[0], doc_id="a")
    store.log_vote(-1, query_id=q[1], doc_id="a")
    store.log_vote(1, query_id=q[1], doc_id="a")  # changed mind: up in force
    store.log_vote(-1, query_id=q[2], doc_id="a")
    # v2: one query, an answer voted down, a withdrawn vote
    q2 = log(session_id="s", query="x", index_version="v2", method="hybrid", latency_ms=5,
             results=_shown("a"))  # fmt: skip
    answer = store.log_answer(session_id="s", question="x", rewritten_query="x", answer="y",
                              cited_doc_ids=[], index_version="v2", mode="extractive")  # fmt: skip
    store.log_vote(-1, answer_id=answer)
    store.log_vote(1, query_id=q2, doc_id="a")
    store.log_vote(0, query_id=q2, doc_id="a")

    table = monitoring.per_version(monitoring.load_frames(store)).set_index("index_version")
    v1, v2 = table.loc["v1"], table.loc["v2"]
    assert v1["queries"] == 4
    assert v1["p50_ms"] == pytest.approx(25.0)  # midway between 20 and 30
    assert v1["p95_ms"] == pytest.approx(38.5)  # 30 + 0.85 * (40 - 30)
    assert v1["zero_result_rate"] == pytest.approx(0.25)  # 1 of 4
    assert v1["ctr"] == pytest.approx(0.5)  # q0 and q1 of 4
    assert v1["vote_ratio"] == pytest.approx(2 / 3)  # in force: q0 up, q1 up, q2 down
    assert (v2["queries"], v2["ctr"], v2["up_votes"], v2["votes"]) == (1, 0.0, 0, 1)
    assert v2["vote_ratio"] == 0.0  # only the answer's down-vote is in force
    counts, freq = monitoring.over_time(monitoring.load_frames(store)["queries"])
    assert freq == "h" and counts["queries"].sum() == 5


def test_no_votes_gives_no_ratio(tmp_path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.sqlite'}")
    store.log_query(
        session_id="s", query="q", index_version="v", method="bm25", latency_ms=1, results=[]
    )
    (row,) = monitoring.per_version(monitoring.load_frames(store)).to_dict("records")
    assert math.isnan(row["vote_ratio"]) and row["zero_result_rate"] == 1.0


def test_evaluation_runs_without_and_with_mlflow(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runs, message = monitoring.evaluation_runs(f"sqlite:///{tmp_path / 'none' / 'mlflow.db'}")
    assert runs.empty and "No MLflow store yet" in message

    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("docsearch", artifact_location=(tmp_path / "a").as_uri())
    for version, ndcg in (("20260101T000000Z", 0.5), ("20260102T000000Z", 0.6)):
        run = client.create_run(experiment, run_name=f"index {version}")
        client.log_param(run.info.run_id, "index_version", version)
        client.log_metric(run.info.run_id, "sample/ndcg_at_10", ndcg)
        client.log_metric(run.info.run_id, "build_seconds", 3.0)  # not an evaluation metric
    runs, message = monitoring.evaluation_runs(uri)
    assert message == "2 evaluated index versions in MLflow."
    assert runs[["index_version", "dataset", "metric", "value"]].values.tolist() == [
        ["20260101T000000Z", "sample", "ndcg_at_10", 0.5],
        ["20260102T000000Z", "sample", "ndcg_at_10", 0.6],
    ]
    # read through a client of its own: the process's tracking URI (and MLFLOW_TRACKING_URI,
    # which mlflow.set_tracking_uri sets) stays as it was
    import os

    assert "MLFLOW_TRACKING_URI" not in os.environ


def test_overall_figures_agree_with_the_versions_and_count_chat_answers(tmp_path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.sqlite'}")
    # one version: a search result voted up twice (latest counts once), a chat answer voted down
    q = store.log_query(session_id="s", query="vpn", index_version="v1", method="hybrid",
                        latency_ms=10, results=_shown("a"))  # fmt: skip
    store.log_vote(1, query_id=q, doc_id="a")
    store.log_vote(1, query_id=q, doc_id="a")
    chat = store.log_query(session_id="s", query="leave?", index_version="v1", method="hybrid",
                           latency_ms=20, results=_shown("b"), source="chat")  # fmt: skip
    answer = store.log_answer(session_id="s", question="leave?", rewritten_query="leave?",
                              answer="x", cited_doc_ids=["b"], index_version="v1",
                              mode="extractive", query_id=chat)  # fmt: skip
    store.log_vote(-1, answer_id=answer)
    frames = monitoring.load_frames(store)
    (row,) = monitoring.per_version(frames).to_dict("records")
    total = monitoring.overall(frames)
    assert row["vote_ratio"] == total["vote_ratio"] == 0.5  # 1 up of 2 votes in force
    assert row["queries"] == total["queries"] == 2
    searches = monitoring.of_sources(frames, ["search"])  # the chat answer's vote goes with it
    assert monitoring.overall(searches)["vote_ratio"] == 1.0
