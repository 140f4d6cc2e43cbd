"""Trying docsearch with several people on one machine, through the OpenID Connect mock
provider the tests use (the PyPI package oidc-provider-mock; start it with its own command,
``oidc-provider-mock``, as the README's "Try it with two people" says).

    python scripts/oidc_mock.py secrets > .streamlit/secrets.toml   # the app's [auth] section
    python scripts/oidc_mock.py token ann@example.com                # an API access token

``token`` signs the person in the way a program does (the authorization-code flow, the mock
asks no password) and prints the provider's access token: the REST API accepts it as
``Authorization: Bearer TOKEN``. The sign-in tests use the same client and functions.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from urllib.parse import parse_qs, urlparse

import requests

ISSUER = "http://localhost:9400"  # oidc-provider-mock's own default port
APP = "http://localhost:8501"  # the search app, as `make run` starts it
CLIENT_ID = "docsearch-test"  # the mock accepts any client without registering it
CLIENT_SECRET = "not-a-secret"
PROGRAM_REDIRECT = "http://127.0.0.1/callback"  # never opened: the code is read from the redirect


def secrets_toml(issuer: str, redirect_uri: str, cookie_secret: str) -> str:
    """Streamlit's ``[auth]`` section for the mock provider at ``issuer``."""
    return (
        "[auth]\n"
        f'redirect_uri = "{redirect_uri}"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )


def access_token(issuer: str, email: str) -> str:
    """An access token for ``email`` from the mock provider (authorization-code flow)."""
    answer = requests.post(
        f"{issuer}/oauth2/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": PROGRAM_REDIRECT,
            "response_type": "code",
            "scope": "openid email profile",
            "state": "s",
        },
        data={"sub": email},
        allow_redirects=False,
        timeout=10,
    )
    if "location" not in answer.headers:
        raise RuntimeError(f"{issuer} gave no authorization code ({answer.status_code})")
    code = parse_qs(urlparse(answer.headers["location"]).query)["code"][0]
    token = requests.post(
        f"{issuer}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": PROGRAM_REDIRECT,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=10,
    )
    token.raise_for_status()
    return token.json()["access_token"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    made = sub.add_parser("secrets", help="print the app's [auth] section for the mock")
    made.add_argument("--issuer", default=ISSUER, help="the mock's address (%(default)s)")
    made.add_argument("--app", default=APP, help="the search app's address (%(default)s)")
    token = sub.add_parser("token", help="print an access token for a person")
    token.add_argument("email", help="the person, as the mock provider knows them")
    token.add_argument("--issuer", default=ISSUER, help="the mock's address (%(default)s)")
    args = parser.parse_args(argv)
    if args.command == "secrets":
        redirect = f"{args.app.rstrip('/')}/oauth2callback"
        print(secrets_toml(args.issuer, redirect, secrets.token_urlsafe(32)), end="")
        return 0
    try:
        print(access_token(args.issuer, args.email))
    except requests.RequestException as exc:
        print(f"error: no token from {args.issuer} ({exc}); is the mock running?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
