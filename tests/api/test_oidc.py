"""The API accepts the organisation's OIDC access tokens (the provider the app signs in with):
groups from the token's claim decide what the caller reads; a token the provider revoked
stops working at once."""

from __future__ import annotations

from tests.access.conftest import DOCS, MAY_READ
from tests.api.conftest import auth
from tests.oidc import access_token, provider, revoke, secrets_toml


def test_an_oidc_access_token_reads_as_its_groups(access_home, monkeypatch):
    from fastapi.testclient import TestClient

    from app.api import create_app

    settings, _, _ = access_home
    people = {"ann@example.com": ["hr"], "root@example.com": ["docsearch-admins"]}
    with provider(people, monkeypatch) as issuer:
        secrets = settings.home / "secrets.toml"
        secrets.write_text(secrets_toml(issuer, "http://127.0.0.1:8501/oauth2callback"))
        settings = settings.model_copy(update={"auth_secrets": secrets})
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        token = access_token(issuer, "ann@example.com")
        found = client.get(
            "/v1/search", params={"q": "quarterly report", "k": len(DOCS)}, headers=auth(token)
        )
        assert found.status_code == 200, found.text
        # ann@example.com is in group hr, like "ann" of the policy's matrix
        assert {r["doc_id"] for r in found.json()["results"]} == MAY_READ["ann"]
        assert client.get("/v1/monitoring", headers=auth(token)).status_code == 403
        root = access_token(issuer, "root@example.com")  # the admin group makes an admin
        assert client.get("/v1/monitoring", headers=auth(root)).status_code == 200
        revoke(issuer, "ann@example.com")
        assert client.get("/v1/index", headers=auth(token)).status_code == 401
        assert client.get("/v1/index", headers=auth("not.a.jwt")).status_code == 401
