"""The whole app in a real browser: `streamlit run` as `make run` starts it, driven by Chromium."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifecycle.feedback import FeedbackStore
from search.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def _load(name: str, path: Path):
    """tests/conftest.py and tests/app/conftest.py both import as `conftest`: load by path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helpers = _load("_root_conftest", Path(__file__).parent / "conftest.py")
app_corpus = _load("_app_conftest", Path(__file__).parent / "app" / "conftest.py")


def _wait_until_idle(page, timeout: float = 30.0) -> None:
    """Until the script run has finished (Streamlit shows its status widget while running)."""
    page.wait_for_timeout(300)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=timeout * 1000)


def _start_app(home, docs, tmp_path):
    """`streamlit run` over ``home``; returns (process, url, log file)."""
    port = helpers.free_port()
    env = {
        **os.environ,
        "DOCSEARCH_HOME": str(home),
        "DOCSEARCH_DOCS": str(docs),
        "DOCSEARCH_MODEL": "hashing-128",
    }
    for name in (
        "DOCSEARCH_FEEDBACK_URL",
        "DOCSEARCH_LLM_URL",
        "DOCSEARCH_LLM_MODEL",
        "MLFLOW_TRACKING_URI",
    ):
        env.pop(name, None)
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 - closed by the caller
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}", log


def _votes(store, count: int) -> list[int]:
    """The vote rows' values, once there are ``count`` of them (or after 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(store.rows("votes")) < count:
        time.sleep(0.25)
    time.sleep(0.5)  # a duplicate row would arrive now
    return [v["value"] for v in store.rows("votes")]


@pytest.mark.browser
def test_search_vote_and_chat_in_a_browser(browser_page, home, tmp_path):
    docs = tmp_path / "docs"
    version = app_corpus.build_app_home(home, docs)
    proc, url, log = _start_app(home, docs, tmp_path)
    page = browser_page
    try:
        helpers.wait_for_http(f"{url}/_stcore/health", timeout=120, proc=proc)
        page.goto(url)
        query = page.get_by_label("Query")
        query.fill("vpn error 809")
        query.press("Enter")
        # the result cards are containers keyed result-<query id>-<rank>
        first = page.locator("div[class*='st-key-result-'][class*='-1']").filter(
            has_text="VPN setup on Windows"
        )
        first.first.wait_for(timeout=30_000)
        page.locator("div[class*='st-key-result-']").filter(has_text="Preview").nth(4).wait_for()
        _wait_until_idle(page)
        first = first.first
        sidebar = page.locator("[data-testid=stSidebar]")
        assert "Index: built" in sidebar.inner_text()  # a readable name, not the folder id
        sidebar.get_by_text("Version details").click()  # the id is an operator's detail
        sidebar.get_by_text(version).wait_for(timeout=10_000)
        first.get_by_role("radio", name="Thumbs up").click()
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "app-search.png"), full_page=True)

        store = FeedbackStore(Settings(home=home, docs=docs, model="hashing-128").feedback_url)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not store.rows("votes"):
            time.sleep(0.25)
        (query_row,) = store.rows("queries")
        assert (query_row["query"], query_row["index_version"]) == ("vpn error 809", version)
        assert store.rows("shown")[0]["doc_id"] == "it/vpn-setup.md"
        (vote,) = store.rows("votes")
        assert (vote["query_id"], vote["doc_id"], vote["value"]) == (
            query_row["id"],
            "it/vpn-setup.md",
            1,
        )

        page.goto(f"{url}/chat")
        box = page.get_by_placeholder("Ask a question about the documents")
        box.fill("How many weeks of parental leave do employees get?")
        box.press("Enter")
        citation = page.locator(".ds-answer a").first
        citation.wait_for(timeout=30_000)
        assert citation.inner_text() in ("[1]", "[2]", "[3]")
        assert "sixteen weeks" in page.locator(".ds-answer").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "app-chat.png"), full_page=True)
        (answer,) = store.rows("answers")
        assert "hr/parental-leave.md" in answer["cited_doc_ids"]
        store.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.browser
def test_back_restores_the_search_and_votes_change_never_duplicate(browser_page, home, tmp_path):
    docs = tmp_path / "docs"
    app_corpus.build_app_home(home, docs)
    proc, url, log = _start_app(home, docs, tmp_path)
    page = browser_page
    store = FeedbackStore(Settings(home=home, docs=docs, model="hashing-128").feedback_url)
    card = "div[class*='st-key-result-'][class*='-1']"
    try:
        helpers.wait_for_http(f"{url}/_stcore/health", timeout=120, proc=proc)
        page.goto(url)
        page.get_by_label("Query").fill("vpn error 809")
        page.get_by_label("Query").press("Enter")
        first = page.locator(card).filter(has_text="VPN setup on Windows").first
        first.wait_for(timeout=30_000)
        _wait_until_idle(page)
        assert "q=vpn+error+809" in page.url and "qid=" in page.url
        first.get_by_role("radio", name="Thumbs up").click()
        assert _votes(store, 1) == [1]

        first.get_by_role("link", name="Open").click()  # the document, at the matching passage
        page.locator("#ds-passage").wait_for(timeout=30_000)
        assert "Error 809" in page.locator("#ds-passage").inner_text()
        page.screenshot(path=str(ARTIFACTS / "app-document-passage.png"), full_page=True)

        page.go_back()  # the same page of results, the query and the vote as they were
        first = page.locator(card).filter(has_text="VPN setup on Windows").first
        first.wait_for(timeout=30_000)
        _wait_until_idle(page)
        assert page.get_by_label("Query").input_value() == "vpn error 809"
        assert first.get_by_role("radio", name="Thumbs up").is_checked()
        page.screenshot(path=str(ARTIFACTS / "app-back.png"), full_page=True)
        assert len(store.rows("queries")) == 1  # restored, not searched again

        first.get_by_role("radio", name="Thumbs up").click()  # the same vote again: withdrawn
        assert _votes(store, 2) == [1, 0]
        _wait_until_idle(page)
        first.get_by_role("radio", name="Thumbs down").click()
        assert _votes(store, 3) == [1, 0, -1]
        (query,) = store.rows("queries")
        assert {v["query_id"] for v in store.rows("votes")} == {query["id"]}
    finally:
        store.close()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
