"""Hostile requests answered by the app itself (under any ASGI server): failed sign-ins limited
per client address before a token is looked up, oversized heads refused by the middleware,
contradictory date filters explained as the search page explains them."""

from __future__ import annotations

from app.api.limits import MAX_HEAD_BYTES, MAX_URL_BYTES
from app.search_params import date_range_problem
from tests.api.conftest import auth

PROBLEM = "application/problem+json"


def test_failed_sign_ins_from_one_address_get_429_before_any_token_is_looked_up(api):
    from fastapi.testclient import TestClient

    client, tokens, _ = api
    services = client.app.state.services
    looked_up = []
    authenticate = services.identities.authenticate
    services.identities.authenticate = lambda token: looked_up.append(token) or authenticate(token)
    codes = [
        client.get("/v1/index", headers=auth(f"ds_made-up-{i}")).status_code for i in range(30)
    ]
    assert codes == [401] * 20 + [429] * 10  # api_auth_failures: 20 a minute
    assert len(looked_up) == 20  # the 10 refused ones cost no identity-store look-up
    refused = client.get("/v1/index", headers=auth(tokens["ann"]))  # same address, good token
    assert refused.status_code == 429 and refused.headers["content-type"] == PROBLEM
    assert "failed sign-ins from this address" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    other = TestClient(client.app, client=("192.0.2.7", 50000))  # another address
    assert other.get("/v1/index", headers=auth(tokens["ann"])).status_code == 200
    assert client.get("/healthz").status_code == 200  # no sign-in: not limited


def test_the_middleware_refuses_oversized_urls_and_headers(api):
    client, tokens, _ = api
    long_url = client.get("/v1/search", params={"q": "x" * 40_000}, headers=auth(tokens["ann"]))
    assert long_url.status_code == 414 and long_url.headers["content-type"] == PROBLEM
    assert f"{MAX_URL_BYTES:,} bytes" in long_url.json()["detail"]
    big = {f"x-filler-{i}": "y" * 8000 for i in range(9)}  # 9 x 8 KB: over 64 KB of head
    refused = client.get("/healthz", headers=big)
    assert refused.status_code == 431 and refused.headers["content-type"] == PROBLEM
    assert f"{MAX_HEAD_BYTES:,} bytes" in refused.json()["detail"]


def test_contradictory_dates_are_explained_as_the_search_page_does(api):
    client, tokens, _ = api
    params = {"q": "quarterly report", "after": "2025-06-01", "before": "2024-01-01"}
    response = client.get("/v1/search", params=params, headers=auth(tokens["ann"]))
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    detail = response.json()["detail"]
    # the page's sentence, with the API's names for the two dates
    assert detail == date_range_problem("2025-06-01", "2024-01-01", ("`after`", "`before`"))
    assert detail == (
        "`after` (2025-06-01) is later than `before` (2024-01-01), so no document can match: "
        "swap the two dates or clear one of them."
    )
    same_day = {**params, "before": "2025-06-01"}  # `before` excludes its own day: empty too
    response = client.get("/v1/search", params=same_day, headers=auth(tokens["ann"]))
    assert response.status_code == 400 and "the same day as `before`" in response.json()["detail"]
    fine = {**params, "after": "2020-01-01"}
    assert client.get("/v1/search", params=fine, headers=auth(tokens["ann"])).status_code == 200
