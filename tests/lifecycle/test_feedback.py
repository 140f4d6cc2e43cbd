import multiprocessing
import sqlite3
import threading

import pytest

from lifecycle.feedback import FeedbackRejected, FeedbackStore, query_key, search_and_log
from search.config import IndexConfig
from search.retrieval import Filters

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


def test_sqlite_store_uses_wal(tmp_path):
    FeedbackStore(f"sqlite:///{tmp_path / 'fb' / 'feedback.sqlite'}").close()
    with sqlite3.connect(tmp_path / "fb" / "feedback.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_search_and_log_records_query_and_shown_results(index, store):
    query_id, results = search_and_log(
        index,
        store,
        "vpn error 809",
        "s1",
        "v1",
        k=3,
        filters=Filters.of(formats=["beir"]),
        user="alice",
    )
    assert results[0].doc_id == "d2"
    (row,) = store.rows("queries")
    assert row["id"] == query_id
    assert (row["session_id"], row["query"], row["index_version"]) == ("s1", "vpn error 809", "v1")
    assert row["user_name"] == "alice"  # whose question it is
    assert row["method"] == "hybrid" and row["source"] == "search"
    assert row["n_results"] == 3 and row["latency_ms"] > 0
    assert row["filters"] == {"formats": ["beir"]}
    shown = store.rows("shown")
    assert [(s["rank"], s["doc_id"]) for s in shown] == [(r.rank, r.doc_id) for r in results]
    assert shown[0]["bm25_score"] == pytest.approx(results[0].bm25_score)


def test_zero_results_are_logged(index, store):
    _, results = search_and_log(
        index, store, "vpn", "s1", "v1", filters=Filters.of(formats=["pdf"])
    )
    assert results == []
    assert store.rows("queries")[0]["n_results"] == 0
    assert store.rows("shown") == []


def test_votes_are_checked(store):
    with pytest.raises(FeedbackRejected, match="not 2"):
        store.log_vote(2, query_id=1)
    with pytest.raises(FeedbackRejected, match="needs a query_id"):
        store.log_vote(1)


def _fake_results(doc_ids):
    from search.index import SearchResult
    from search.retrieval import Snippet

    return [
        SearchResult(d, d.upper(), 1.0 / r, r, None, None, f"{d}#0", Snippet("", ()), {})
        for r, d in enumerate(doc_ids, start=1)
    ]


VPN_QUERY = dict(query="vpn error", index_version="v2", method="hybrid", latency_ms=4)


def test_export_labels_grades_clicks_votes_and_skips(store):
    # query 1: a, b, c shown; c clicked -> a, b skipped (grade 0); one person's click on c
    # is not enough for a label yet (label policy rule 6)
    q1 = store.log_query(
        session_id="s1",
        query="VPN  error",
        index_version="v1",
        method="hybrid",
        latency_ms=5,
        results=_fake_results(["a", "b", "c"]),
    )
    click = store.log_click(q1, "c", 3, kind="preview", session_id="s1")
    # query 2, same text in another session and version: b clicked and up-voted (one person,
    # two signals: relevant, grade 2), d down-voted
    q2 = store.log_query(
        session_id="s2",
        query="vpn error",
        index_version="v2",
        method="hybrid",
        latency_ms=7,
        results=_fake_results(["b", "d"]),
    )
    store.log_click(q2, "b", 1, session_id="s2")
    up = store.log_vote(1, query_id=q2, doc_id="b", session_id="s2")
    store.log_vote(-1, query_id=q2, doc_id="d", session_id="s2")
    # a withdrawn vote leaves no signal
    q3 = store.log_query(
        session_id="s2",
        query="holidays",
        index_version="v2",
        method="bm25",
        latency_ms=3,
        results=_fake_results(["e"]),
    )
    store.log_vote(1, query_id=q3, doc_id="e")
    store.log_vote(0, query_id=q3, doc_id="e")

    labels = store.export_labels()
    qid, text = query_key("vpn error")
    assert labels.queries == {qid: "vpn error"}
    # b: skipped by s1 (q1), chosen with a thumbs-up by s2 (q2): the choice wins, graded 2
    assert labels.qrels == {qid: {"a": 0, "b": 2, "d": 0}}
    b = labels.lineage[qid]["b"]
    assert (b.up_votes, b.skips, b.query_ids, b.vote_ids) == (1, 1, [q1, q2], [up])
    assert b.index_versions == ["v1", "v2"]
    # a second person clicking c makes it relevant (two people chose it)
    q4 = store.log_query(**{**VPN_QUERY, "session_id": "s3", "results": _fake_results(["c"])})
    second = store.log_click(q4, "c", 1, session_id="s3")
    labels = store.export_labels()
    assert labels.qrels[qid]["c"] == 1
    assert labels.lineage[qid]["c"].click_ids == [click, second]
    # restricted to one version, only q2's and q4's events count
    assert store.export_labels(index_version="v2").qrels == {qid: {"b": 2, "d": 0}}


def test_impressions_carry_shown_clicks_and_votes(store):
    q = store.log_query(
        session_id="s",
        query="x",
        index_version="v",
        method="bm25",
        latency_ms=1,
        results=_fake_results(["a", "b"]),
        source="simulator",
    )
    store.log_click(q, "b", 2)
    vote = store.log_vote(-1, query_id=q, doc_id="a")
    store.add_comment(vote, "outdated")
    (imp,) = store.impressions(sources=["simulator"])
    assert [s.doc_id for s in imp.shown] == ["a", "b"]
    assert imp.clicked() == {"b"} and imp.skipped() == {"a"}
    assert imp.votes[0].comment == "outdated" and imp.votes_in_force() == {"a": -1}
    assert list(store.impressions(sources=["search"])) == []


def test_answers_and_answer_votes(store):
    answer_id = store.log_answer(
        session_id="s",
        question="q?",
        rewritten_query="q",
        answer="A [1]",
        cited_doc_ids=["d1"],
        index_version="v",
        mode="extractive",
    )
    store.log_vote(1, answer_id=answer_id, comment="helpful")
    (row,) = store.rows("answers")
    assert row["cited_doc_ids"] == ["d1"]
    assert store.rows("votes")[0]["answer_id"] == answer_id


def _write_many(url: str, worker: int, n: int) -> None:
    store = FeedbackStore(url)
    for i in range(n):
        q = store.log_query(
            session_id=f"w{worker}",
            query=f"q{i}",
            index_version="v",
            method="bm25",
            latency_ms=1.0,
            results=_fake_results(["a", "b", "c"]),
        )
        store.log_click(q, "a", 1)
        store.log_vote(1, query_id=q, doc_id="a")
    store.close()


def test_concurrent_threads_and_processes_lose_nothing(database_url):
    url = database_url
    FeedbackStore(url).close()
    n = 40
    threads = [threading.Thread(target=_write_many, args=(url, w, n)) for w in range(4)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(url, 10 + w, n)) for w in range(3)]
    for worker in threads + procs:
        worker.start()
    for worker in threads + procs:
        worker.join(timeout=120)
    assert all(p.exitcode == 0 for p in procs)
    store = FeedbackStore(url)
    # 7 writers x 40 queries, each with 3 shown results, one click and one vote
    assert len(store.rows("queries")) == 7 * n
    assert len(store.rows("shown")) == 7 * n * 3
    assert len(store.rows("clicks")) == 7 * n
    assert len(store.rows("votes")) == 7 * n
    assert {r["session_id"] for r in store.rows("queries")} == {
        f"w{w}" for w in (0, 1, 2, 3, 10, 11, 12)
    }
    store.close()
