"""Feedback and questions are personal data: people see their own questions, admins export,
and one person's questions can be erased (issue 15)."""

import json

import pytest

from lifecycle.feedback import AdminOnly
from lifecycle.identity import User


def _ask(store, text, session, user=None, shown=("a", "b")):
    from search.index import SearchResult
    from search.retrieval import Snippet

    results = [
        SearchResult(d, d, 1.0, r, None, None, f"{d}#0", Snippet("", ()), {})
        for r, d in enumerate(shown, start=1)
    ]
    return store.log_query(
        session_id=session,
        query=text,
        index_version="v1",
        method="hybrid",
        latency_ms=1.0,
        results=results,
        user=user,
    )


def test_people_see_only_their_own_questions(store):
    _ask(store, "alice's first question", "s1", user="alice")
    _ask(store, "bob's question", "s2", user="bob")
    _ask(store, "alice's second question", "s3", user="alice")
    _ask(store, "an anonymous question", "s4")
    mine = store.queries_of("alice")
    assert [r.query for r in mine] == ["alice's second question", "alice's first question"]
    assert [r.query for r in store.queries_of("alice", limit=1)] == ["alice's second question"]
    assert [r.query for r in store.queries_of(session_id="s4")] == ["an anonymous question"]
    assert store.queries_of("carol") == []
    with pytest.raises(ValueError, match="a user or a session_id"):
        store.queries_of()


def test_only_admins_export_everyones_feedback(store):
    q = _ask(store, "payroll dates", "s1", user="alice")
    store.log_click(q, "b", session_id="s1")
    with pytest.raises(AdminOnly, match="bob is not an admin"):
        store.export(User("bob", frozenset({"hr"}), admin=False))
    exported = store.export(User("root", frozenset(), admin=True))
    assert [r["query"] for r in exported["queries"]] == ["payroll dates"]
    assert [(c["doc_id"], c["rank"]) for c in exported["clicks"]] == [("b", 2)]
    assert set(exported) == {"queries", "shown", "clicks", "answers", "votes"}
    json.dumps(exported)  # JSON-ready: times are ISO 8601 strings


def test_forgetting_a_person_erases_their_questions_and_feedback(store):
    mine = _ask(store, "alice's question", "s1", user="alice")
    store.log_click(mine, "a", session_id="s1")
    store.log_vote(1, query_id=mine, doc_id="a", session_id="s1")
    answer = store.log_answer(
        session_id="s1",
        question="alice asks the chat",
        rewritten_query="alice asks the chat",
        answer="...",
        cited_doc_ids=["a"],
        index_version="v1",
        mode="extractive",
        query_id=mine,
        user="alice",
    )
    store.log_vote(-1, answer_id=answer, session_id="s1")
    theirs = _ask(store, "bob's question", "s2", user="bob")
    store.log_click(theirs, "b", session_id="s2")
    assert store.forget("alice") == 2  # one query and one answer
    assert [r["query"] for r in store.rows("queries")] == ["bob's question"]
    assert store.rows("answers") == [] and store.rows("votes") == []
    assert [c["query_id"] for c in store.rows("clicks")] == [theirs]
    assert {s["query_id"] for s in store.rows("shown")} == {theirs}
    assert store.forget(session_id="nobody") == 0
