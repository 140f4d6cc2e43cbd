"""The leakage matrix over the REST API: for each person, every route that shows documents
(search by each method with its snippets, the document, its file, similar documents, chat and
its citations, the index's statistics) shows what they may read and nothing else.

Shared by the tests that make the served version in different ways (``docsearch build --docs``,
``--register``, ``index_job``, a folder of links)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from tests.access.conftest import CODEWORDS, GROUPS, MAY_READ

SEARCH = "quarterly report codeword"
QUESTION = "what does the quarterly report say about salaries, budget, keys and leave?"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def api_client(settings, groups: Mapping[str, list[str]] = GROUPS) -> Iterator[tuple]:
    """(TestClient over ``settings``, {person: token}) with each person of ``groups`` a user."""
    from fastapi.testclient import TestClient

    from app.api import create_app
    from app.api.state import Services
    from lifecycle.identity import Identities

    settings = settings.model_copy(update={"auth_secrets": settings.home / "no-secrets.toml"})
    identities = Identities(settings.feedback_url)
    tokens = {name: identities.add_user(name, list(g)) for name, g in groups.items()}
    services = Services.from_settings(settings)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
            yield client, tokens
    finally:
        services.store.close()
        identities.close()


def leaked(text: str, readable: set[str], codewords: Mapping[str, str] = CODEWORDS) -> list[str]:
    """The code words in ``text`` of documents outside ``readable``."""
    return [word for doc, word in codewords.items() if doc not in readable and word in text]


def assert_no_leak(
    client,
    tokens: Mapping[str, str],
    may_read: Mapping[str, set[str]] = MAY_READ,
    codewords: Mapping[str, str] = CODEWORDS,
    search: str = SEARCH,
    question: str = QUESTION,
    changed: frozenset[str] = frozenset(),
) -> None:
    """Every person reads exactly ``may_read[person]`` through every route, and no code word of
    any other document (``codewords``: a word found only in its document); the files of
    ``changed`` documents (changed since the build) answer 409 to those who may read them."""
    documents = sorted(codewords)
    for person, readable in may_read.items():
        headers = auth(tokens[person])
        for method in ("hybrid", "bm25", "dense"):
            response = client.get(
                "/v1/search", params={"q": search, "k": 50, "method": method}, headers=headers
            )
            assert response.status_code == 200, response.text
            found = {r["doc_id"] for r in response.json()["results"]}
            assert found == readable, (person, method)
            assert leaked(response.text, readable, codewords) == [], (person, method)
        for doc_id in documents:
            for route in ("", "/file", "/similar?k=50"):
                response = client.get(f"/v1/documents/{doc_id}{route}", headers=headers)
                expected = 200 if doc_id in readable else 404
                if expected == 200 and route == "/file" and doc_id in changed:
                    expected = 409
                assert response.status_code == expected, (person, doc_id, route, response.text)
                assert leaked(response.text, readable, codewords) == [], (person, doc_id, route)
        info = client.get("/v1/index", headers=headers).json()
        assert info["documents"] == len(readable), (person, info)
        chat = client.post("/v1/chat", json={"message": question}, headers=headers)
        assert chat.status_code == 200, chat.text
        assert {c["doc_id"] for c in chat.json()["citations"]} <= readable
        assert leaked(chat.text, readable, codewords) == [], person
