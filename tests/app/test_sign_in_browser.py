"""Sign-in and the leakage matrix in a real browser: the app signs people in through a local
OpenID Connect provider (oidc-provider-mock), takes their groups from the token, and shows
each of them only what the access policy lets them read; without a provider it says it runs
for the local user."""

from __future__ import annotations

import pytest

from tests.access.conftest import CODEWORDS, MAY_READ, access_home, built_corpus  # noqa: F401
from tests.app.browser import app_with_sign_in, idle, sign_in, start_app
from tests.conftest import free_port, wait_for_http

PEOPLE = {"ann@example.com": ["hr"], "bea@example.com": ["board"]}
AS_IN_MATRIX = {"ann@example.com": "ann", "bea@example.com": "bea"}


def _leaked(person: str, text: str) -> list[str]:
    return [w for d, w in CODEWORDS.items() if d not in MAY_READ[person] and w in text]


def _search(page, query: str, expected: int) -> str:
    box = page.get_by_label("Query")
    box.fill(query)
    box.press("Enter")
    page.locator(".ds-result").nth(expected - 1).wait_for(timeout=30_000)
    idle(page)
    return page.locator("[data-testid=stMain]").inner_text()


@pytest.mark.browser
@pytest.mark.slow
def test_people_signed_in_through_oidc_see_only_what_they_may_read(
    access_home,  # noqa: F811 - the fixture imported above
    browser_page,
    monkeypatch,
    tmp_path,
):
    settings, _, _ = access_home
    with app_with_sign_in(settings, PEOPLE, monkeypatch, tmp_path) as url:
        pages = [browser_page, browser_page.context.browser.new_context().new_page()]
        for page, email in zip(pages, PEOPLE, strict=True):
            person = AS_IN_MATRIX[email]
            sign_in(page, url, email)
            # the groups came from the token's claim; monitoring is for admins only
            sidebar = page.locator("[data-testid=stSidebar]").inner_text()
            assert f"({PEOPLE[email][0]})" in sidebar
            assert "Monitoring" not in sidebar
            query = f"quarterly report codeword asked-by-{person}"
            shown = _search(page, query, len(MAY_READ[person]))
            assert page.locator(".ds-result").count() == len(MAY_READ[person])
            assert _leaked(person, shown) == []
            for doc_id in MAY_READ[person]:
                assert CODEWORDS[doc_id] in shown, shown
            for doc_id, word in CODEWORDS.items():
                page.goto(f"{url}/document?doc={doc_id}")
                readable = doc_id in MAY_READ[person]
                expected = word if readable else "not in the index being served"
                page.get_by_text(expected).first.wait_for(timeout=30_000)
                idle(page)
                text = page.locator("[data-testid=stMain]").inner_text()
                assert (word in text) == readable
        # bea's pages never show what ann asked
        assert "asked-by-ann" not in pages[1].content()


@pytest.mark.browser
def test_without_a_provider_the_local_user_is_shown(
    access_home,  # noqa: F811
    browser_page,
    tmp_path,
):
    settings, _, _ = access_home
    port = free_port()
    proc = start_app(settings, port, None, tmp_path / "streamlit.log")
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=120, proc=proc)
        browser_page.goto(f"http://127.0.0.1:{port}")
        note = "Signed in as the local user: no identity provider is configured."
        browser_page.get_by_text(note).wait_for(timeout=60_000)
        # the local user is an admin: monitoring is there
        browser_page.locator("[data-testid=stSidebar]").get_by_text("Monitoring").first.wait_for()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
