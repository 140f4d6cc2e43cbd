"""A local OpenID Connect provider for the sign-in tests (the PyPI package oidc-provider-mock,
on loopback), people with a groups claim, and access tokens from its authorization-code flow
(the client and the flow are ``scripts/oidc_mock.py``'s, which the README has people use)."""

from __future__ import annotations

import contextlib

import requests

from scripts.oidc_mock import CLIENT_ID, CLIENT_SECRET, access_token
from scripts.oidc_mock import secrets_toml as _secrets_toml

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "access_token", "provider", "revoke", "secrets_toml"]


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
    return _secrets_toml(issuer, redirect_uri, cookie_secret)


def revoke(issuer: str, email: str) -> None:
    requests.post(f"{issuer}/users/{email}/revoke-tokens", timeout=10).raise_for_status()
