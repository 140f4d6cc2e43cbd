"""The API over the access corpus (tests/access), with a token for each person."""

from __future__ import annotations

import pytest

from tests.access.conftest import GROUPS, access_home, built_corpus  # noqa: F401 - fixtures


@pytest.fixture
def api(access_home):  # noqa: F811
    """(TestClient, {person: token}, settings): everyone in GROUPS, plus "root", an admin."""
    from fastapi.testclient import TestClient

    from app.api import create_app
    from app.api.state import Services
    from lifecycle.identity import Identities

    settings, _, _ = access_home
    settings = settings.model_copy(update={"auth_secrets": settings.home / "no-secrets.toml"})
    identities = Identities(settings.feedback_url)
    tokens = {name: identities.add_user(name, groups) for name, groups in GROUPS.items()}
    tokens["root"] = identities.add_user("root", [], admin=True)
    services = Services.from_settings(settings)
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
        yield client, tokens, settings
    services.store.close()
    identities.close()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
