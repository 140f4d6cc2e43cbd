"""A mangled link in a real browser: `streamlit run` as `make run` starts it, Chromium opening
the document page with a 4,301-digit passage number (once an exception box with the server's
paths). The page shows the document and one sentence, no traceback."""

from __future__ import annotations

import subprocess

import pytest

from tests.test_app_browser import ARTIFACTS, _start_app, _wait_until_idle, app_corpus, helpers


@pytest.mark.browser
def test_a_4301_digit_passage_in_the_browser(browser_page, home, tmp_path):
    docs = tmp_path / "docs"
    app_corpus.build_app_home(home, docs)
    proc, url, log = _start_app(home, docs, tmp_path)
    page = browser_page
    try:
        helpers.wait_for_http(f"{url}/_stcore/health", timeout=120, proc=proc)
        page.goto(f"{url}/document?doc=it/vpn-setup.md&passage={'9' * 4301}")
        page.locator(".ds-document").wait_for(timeout=60_000)
        _wait_until_idle(page)
        page.screenshot(path=str(ARTIFACTS / "app-mangled-link.png"), full_page=True)
        body = page.locator("body").inner_text()
        assert "VPN setup on Windows" in page.locator("h1").first.inner_text()
        assert "The link's passage number “999999999999999999999999…” (4,301 characters)" in body
        assert page.locator("[data-testid=stException]").count() == 0
        for leak in ("Traceback", "ValueError", str(helpers.FIXTURES.parent.parent)):
            assert leak not in body
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
