"""A local OpenID Connect provider for the sign-in tests (the PyPI package oidc-provider-mock,
on loopback), people with a groups claim, and access tokens from its authorization-code flow."""

from __future__ import annotations

import contextlib
from urllib.parse import parse_qs, urlparse

import requests

CLIENT_ID = "docsearch-test"
CLIENT_SECRET = "not-a-secret"


@contextlib.contextmanager
def provider(people: dict[str, list[str]], monkeypatch):
    """The provider's base URL, with ``{email: groups}`` registered (claims email, groups)."""
    from oidc_provider_mock import User, run_server_in_thread

    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback
    users = [User(sub=email, claims={"email": email, "groups": g}) for email, g in people.items()]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def secrets_toml(issuer: str, redirect_uri: str, cookie_secret: str = "x" * 32) -> str:
    """Streamlit's ``[auth]`` section for this provider."""
    return (
        "[auth]\n"
        f'redirect_uri = "{redirect_uri}"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )


def access_token(issuer: str, email: str) -> str:
    """An access token for ``email``, as a program gets one (authorization code flow)."""
    redirect = "http://127.0.0.1/callback"
    answer = requests.post(
        f"{issuer}/oauth2/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": redirect,
            "response_type": "code",
            "scope": "openid email profile",
            "state": "s",
        },
        data={"sub": email},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlparse(answer.headers["location"]).query)["code"][0]
    token = requests.post(
        f"{issuer}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=10,
    )
    token.raise_for_status()
    return token.json()["access_token"]


def revoke(issuer: str, email: str) -> None:
    requests.post(f"{issuer}/users/{email}/revoke-tokens", timeout=10).raise_for_status()
