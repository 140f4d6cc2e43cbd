"""The REST API: tokens, every route restricted to what the caller may read (404 for the
rest, worded as for a missing document), feedback only on what the caller was shown, admin
routes, bounds, problem+json errors."""

from __future__ import annotations

import time

import pytest

from tests.access.conftest import CODEWORDS, DOCS, MAY_READ, POLICY
from tests.api.conftest import auth

PROBLEM = "application/problem+json"


def _search(client, token, q="quarterly report", **params):
    response = client.get(
        "/v1/search", params={"q": q, "k": len(DOCS), **params}, headers=auth(token)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_no_token_or_a_bad_one_is_401_as_a_problem(api):
    client, tokens, _ = api
    for headers in ({}, auth("ds_not-a-token"), {"Authorization": "Basic abc"}):
        response = client.get("/v1/search", params={"q": "x"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["status"] == 401
    assert client.get("/healthz").json() == {"status": "ok"}
    # ready once warmed up (spelling, chat's sentence vectors, one answer), 503 until then
    deadline = time.monotonic() + 60
    while (ready := client.get("/readyz")).status_code == 503 and time.monotonic() < deadline:
        assert ready.json()["detail"].startswith("warming up")
        assert ready.headers["retry-after"] == "1"
        time.sleep(0.05)
    assert ready.json() == {"status": "ready"}


def test_a_revoked_token_stops_working_at_once(api):
    from lifecycle.identity import Identities

    client, tokens, settings = api
    assert client.get("/v1/index", headers=auth(tokens["ann"])).status_code == 200
    Identities(settings.feedback_url).revoke_tokens("ann")
    assert client.get("/v1/index", headers=auth(tokens["ann"])).status_code == 401


@pytest.mark.parametrize("person", sorted(MAY_READ))
def test_search_shows_exactly_what_the_caller_may_read(api, person):
    client, tokens, _ = api
    for method in ("hybrid", "bm25", "dense"):
        body = _search(client, tokens[person], method=method, weaker="true")
        assert {r["doc_id"] for r in body["results"]} == MAY_READ[person]
        text = str(body)
        assert [w for d, w in CODEWORDS.items() if d not in MAY_READ[person] and w in text] == []
    first = _search(client, tokens[person], k=1, weaker="true")["results"]
    second = _search(client, tokens[person], k=1, offset=1, weaker="true")["results"]
    assert first[0]["rank"] == 1 and second[0]["rank"] == 2  # paging counts from the first page
    assert first[0]["doc_id"] != second[0]["doc_id"]


@pytest.mark.parametrize("person", ["ann", "carl"])
def test_documents_files_and_similar_404_unless_readable(api, person):
    client, tokens, settings = api
    headers = auth(tokens[person])
    missing = client.get("/v1/documents/nowhere.md", headers=headers)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    for doc_id in DOCS:
        routes = (
            f"/v1/documents/{doc_id}",
            f"/v1/documents/{doc_id}/file",
            f"/v1/documents/{doc_id}/similar",
        )
        for route in routes:
            response = client.get(route, headers=headers)
            if doc_id not in MAY_READ[person]:
                assert response.status_code == 404
                # the same answer as for a document that does not exist
                assert response.json() == {
                    **missing.json(),
                    "detail": missing.json()["detail"].replace("nowhere.md", doc_id),
                }
                continue
            assert response.status_code == 200, response.text
        if doc_id in MAY_READ[person]:
            assert CODEWORDS[doc_id] in client.get(routes[0], headers=headers).json()["text"]
            assert (
                client.get(routes[1], headers=headers).content
                == (settings.docs / doc_id).read_bytes()
            )
            similar = client.get(routes[2], params={"k": 20}, headers=headers).json()["results"]
            assert {r["doc_id"] for r in similar} == MAY_READ[person] - {doc_id}


def test_chat_cites_only_readable_documents_and_keeps_conversations_apart(api):
    client, tokens, _ = api
    asked = client.post(
        "/v1/chat",
        json={"message": "what do the salaries and the budget say?"},
        headers=auth(tokens["paula"]),
    )
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert {c["doc_id"] for c in body["citations"]} <= MAY_READ["paula"]
    assert isinstance(body["answered"], bool) and body["searched_for"]
    follow_up = client.post(
        "/v1/chat",
        json={"message": "and the leave?", "conversation_id": body["conversation_id"]},
        headers=auth(tokens["paula"]),
    )
    assert (
        follow_up.status_code == 200
        and follow_up.json()["conversation_id"] == body["conversation_id"]
    )
    stolen = client.post(
        "/v1/chat",
        json={"message": "and the leave?", "conversation_id": body["conversation_id"]},
        headers=auth(tokens["ann"]),
    )
    assert stolen.status_code == 404
    vote = {"kind": "answer_vote", "answer_id": body["answer_id"], "value": 1}
    assert client.post("/v1/feedback", json=vote, headers=auth(tokens["ann"])).status_code == 404
    assert client.post("/v1/feedback", json=vote, headers=auth(tokens["paula"])).status_code == 201


def test_feedback_only_on_results_shown_to_the_caller(api):
    from lifecycle.feedback import FeedbackStore

    client, tokens, settings = api
    body = _search(client, tokens["ann"])
    qid, shown = body["query_id"], body["results"][0]
    click = {"kind": "click", "query_id": qid, "doc_id": shown["doc_id"], "click": "open"}
    made = client.post("/v1/feedback", json=click, headers=auth(tokens["ann"]))
    assert made.status_code == 201, made.text
    vote = {"kind": "vote", "query_id": qid, "doc_id": shown["doc_id"], "value": -1}
    assert client.post("/v1/feedback", json=vote, headers=auth(tokens["ann"])).status_code == 201
    # another person cannot click on ann's query; ann cannot click what she was not shown
    assert client.post("/v1/feedback", json=click, headers=auth(tokens["fred"])).status_code == 404
    unseen = {**click, "doc_id": "finance/budget.md"}
    assert client.post("/v1/feedback", json=unseen, headers=auth(tokens["ann"])).status_code == 404
    bad = client.post(
        "/v1/feedback", json={"kind": "vote", "query_id": qid}, headers=auth(tokens["ann"])
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    # the same click again stores nothing new; a forged query id is answered, not a traceback
    again = client.post("/v1/feedback", json=click, headers=auth(tokens["ann"]))
    assert again.status_code == 201 and again.json()["id"] == made.json()["id"]
    huge = {**click, "query_id": 10**20}
    forged = client.post("/v1/feedback", json=huge, headers=auth(tokens["ann"]))
    assert forged.status_code in (400, 422) and forged.headers["content-type"] == PROBLEM
    impression = FeedbackStore(settings.feedback_url).impression(qid)
    # the same store the app and the learning loop read: one click at the rank shown, one vote
    assert [(c.doc_id, c.rank, c.kind) for c in impression.clicks] == [(shown["doc_id"], 1, "open")]
    assert [(v.doc_id, v.value) for v in impression.votes] == [(shown["doc_id"], -1)]


def test_index_info_and_admin_routes(api):
    client, tokens, settings = api
    from search.access import parse_policy

    for person in sorted(MAY_READ):
        info = client.get("/v1/index", headers=auth(tokens[person])).json()
        # counts of what the caller may read: every document is one chunk (under 64 tokens)
        assert (info["documents"], info["chunks"]) == (len(MAY_READ[person]),) * 2, person
        # the policy of the documents, enforced and recorded by the build
        assert info["policy_hash"] == info["version_policy_hash"] == parse_policy(POLICY).hash
    for method, route in (("get", "/v1/monitoring"), ("post", "/v1/index/rollback")):
        refused = getattr(client, method)(route, headers=auth(tokens["carl"]))
        assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    _search(client, tokens["ann"])
    figures = client.get("/v1/monitoring", headers=auth(tokens["root"])).json()
    assert figures["overall"]["queries"] == 1
    assert "quarterly" not in str(figures)  # figures, never anyone's question text
    promote = client.post("/v1/index/promote", json={"version": "7"}, headers=auth(tokens["carl"]))
    assert promote.status_code == 403


def test_bounds(api):
    client, tokens, _ = api
    headers = auth(tokens["carl"])
    for params in ({"q": "x" * 1001}, {"q": "x", "k": 101}, {"q": "x", "offset": -1}, {"q": ""}):
        response = client.get("/v1/search", params=params, headers=headers)
        assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    big = client.post(
        "/v1/chat",
        content=b"{" + b" " * 70_000 + b"}",
        headers={**headers, "content-type": "application/json"},
    )
    assert big.status_code == 413 and big.headers["content-type"] == PROBLEM


def test_the_rate_limit_answers_429_with_retry_after(api):
    client, tokens, _ = api
    client.app.state.services.limiter.per_minute = 3
    codes = [client.get("/v1/index", headers=auth(tokens["bea"])).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/v1/index", headers=auth(tokens["bea"]))
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert client.get("/v1/index", headers=auth(tokens["fred"])).status_code == 200  # per token


def test_spelling_suggestions_come_only_from_documents_the_caller_may_read(api):
    client, tokens, _ = api
    # "salries" is one edit from "salaries", a word of paula's payroll file alone
    assert _search(client, tokens["paula"], q="salries")["did_you_mean"] == "salaries"
    body = _search(client, tokens["carl"], q="salries")
    assert body["did_you_mean"] is None and "salaries" not in str(body).lower()
    corrected = _search(client, tokens["carl"], q="quartrly reprt")
    assert corrected["corrected_query"] == corrected["did_you_mean"] == "quarterly report"
    assert corrected["results"]
