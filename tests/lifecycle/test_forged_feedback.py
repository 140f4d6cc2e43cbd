"""Feedback that cannot be forged: a click or vote only on a result the server showed to that
session or user, the rank from the server's record, once per result and kind (issue 13)."""

import threading

import pytest

from lifecycle.feedback import FeedbackRejected


def _results(doc_ids):
    from search.index import SearchResult
    from search.retrieval import Snippet

    return [
        SearchResult(d, d.upper(), 1.0 / r, r, None, None, f"{d}#0", Snippet("", ()), {})
        for r, d in enumerate(doc_ids, start=1)
    ]


def _query(store, session="s1", user=None, shown=("a", "b", "c")):
    return store.log_query(
        session_id=session,
        query="payroll dates",
        index_version="v1",
        method="hybrid",
        latency_ms=1.0,
        results=_results(list(shown)),
        user=user,
    )


def test_every_bad_click_is_refused_with_its_reason(store):
    q = _query(store)
    other = _query(store, session="s2")
    bad = {
        "unknown query id 999": dict(query_id=999, doc_id="a"),
        "'99999999999999999999' is not a valid id": dict(query_id=99999999999999999999, doc_id="a"),
        "'abc' is not a valid id": dict(query_id="abc", doc_id="a"),
        f"'{'9' * 30}' is not a valid id": dict(query_id="9" * 4301, doc_id="a"),  # int() refuses
        "'²' is not a valid id": dict(query_id="²", doc_id="a"),  # a digit to isdigit()
        "'0' is not a valid id": dict(query_id=0, doc_id="a"),
        "must be a whole number": dict(query_id=None, doc_id="a"),
        "'zzz' was not shown for query": dict(query_id=q, doc_id="zzz"),
        "doc_id must name a document": dict(query_id=q, doc_id=""),
        "rank 1 is wrong: 'b' was shown at rank 2": dict(query_id=q, doc_id="b", rank=1),
        "rank 99999999999999999999 is wrong": dict(
            query_id=q, doc_id="b", rank=99999999999999999999
        ),
        "rank '-1' is not a rank": dict(query_id=q, doc_id="b", rank=-1),
        f"rank '{'9' * 30}' is not a rank": dict(query_id=q, doc_id="b", rank="9" * 4301),
        "click kind 'like'": dict(query_id=q, doc_id="b", kind="like"),
        f"query {other} was not asked in this session": dict(query_id=other, doc_id="a"),
    }
    for message, call in bad.items():
        call.setdefault("session_id", "s1")
        with pytest.raises(FeedbackRejected, match=message) as refused:
            store.log_click(**call)
        assert "\n" not in str(refused.value)
    assert store.rows("clicks") == []  # nothing was stored


def test_the_rank_is_the_servers_and_a_repeated_click_is_stored_once(store):
    q = _query(store)
    first = store.log_click(q, "c", session_id="s1")  # no rank sent: the server knows it
    assert store.log_click(q, "c", 3, session_id="s1") == first  # acknowledged, not stored
    download = store.log_click(q, "c", kind="download", session_id="s1")
    assert download != first  # another kind of click on the same result is stored
    rows = store.rows("clicks")
    assert [(c["doc_id"], c["rank"], c["kind"]) for c in rows] == [
        ("c", 3, "open"),
        ("c", 3, "download"),
    ]


def test_the_same_click_sent_at_once_from_many_threads_is_stored_once(store):
    q = _query(store)
    ids, errors = [], []

    def click():
        try:
            ids.append(store.log_click(q, "b", 2, kind="preview", session_id="s1"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == 1 and len(store.rows("clicks")) == 1


def test_a_vote_changes_the_vote_in_force_and_never_adds_a_second(store):
    q = _query(store)
    up = store.log_vote(1, query_id=q, doc_id="a", session_id="s1")
    assert store.log_vote(1, query_id=q, doc_id="a", session_id="s1", comment="yes") == up
    down = store.log_vote(-1, query_id=q, doc_id="a", session_id="s1")  # changed their mind
    withdrawn = store.log_vote(0, query_id=q, doc_id="a", session_id="s1")
    rows = store.rows("votes")
    # three events (up, down, withdrawn), the repeated thumbs-up not among them
    assert [(v["id"], v["value"], v["comment"]) for v in rows] == [
        (up, 1, "yes"),
        (down, -1, None),
        (withdrawn, 0, None),
    ]
    (imp,) = store.impressions()
    assert imp.votes_in_force() == {}  # withdrawn: no vote in force
    store.log_vote(1, query_id=q, doc_id="a", session_id="s1")
    (imp,) = store.impressions()
    assert imp.votes_in_force() == {"a": 1}


def test_bad_votes_and_comments_are_refused(store):
    q = _query(store)
    other = _query(store, session="s2")
    answer = store.log_answer(
        session_id="s2",
        question="payroll dates?",
        rewritten_query="payroll dates",
        answer="The 25th [1].",
        cited_doc_ids=["a"],
        index_version="v1",
        mode="extractive",
        query_id=other,
    )
    bad = {
        "'zzz' was not shown": dict(query_id=q, doc_id="zzz"),
        "doc_id must name a document": dict(query_id=q),
        f"query {other} was not asked in this session": dict(query_id=other, doc_id="a"),
        f"answer {answer} was not given in this session": dict(answer_id=answer),
        "not both": dict(query_id=q, answer_id=answer, doc_id="a"),
        "unknown answer id 77": dict(answer_id=77),
    }
    for message, call in bad.items():
        with pytest.raises(FeedbackRejected, match=message):
            store.log_vote(1, session_id="s1", **call)
    for value in (2, -2, True, "1", None):
        with pytest.raises(FeedbackRejected, match="A vote is"):
            store.log_vote(value, query_id=q, doc_id="a", session_id="s1")
    assert store.rows("votes") == []
    mine = store.log_vote(1, answer_id=answer, session_id="s2")
    with pytest.raises(FeedbackRejected, match="not given in this session"):
        store.add_comment(mine, "spam", session_id="s1")
    with pytest.raises(FeedbackRejected, match="unknown vote id 12345"):
        store.add_comment(12345, "x", session_id="s1")
    store.add_comment(mine, "helpful", session_id="s2")
    assert store.rows("votes")[0]["comment"] == "helpful"


def test_a_signed_in_user_owns_their_queries_in_every_session(store):
    q = _query(store, session="browser-1", user="alice")
    store.log_click(q, "a", session_id="browser-2", user="alice")  # the API, or a new tab
    store.log_click(q, "b", session_id="browser-1")  # the session that asked
    with pytest.raises(FeedbackRejected, match="not asked in this session or by this user"):
        store.log_click(q, "c", session_id="browser-3", user="bob")
    with pytest.raises(FeedbackRejected, match="not asked in this session or by this user"):
        store.log_vote(1, query_id=q, doc_id="c", user="bob")
    assert [c["doc_id"] for c in store.rows("clicks")] == ["a", "b"]
