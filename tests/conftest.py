"""Shared fixtures: a tiny BEIR set, a fast hashing encoder, an isolated DOCSEARCH_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.leftovers import mark_this_run, stop_leftovers

FIXTURES = Path(__file__).parent / "fixtures"
BEIR_TINY = FIXTURES / "beir_tiny"


def pytest_configure(config):
    stopped = stop_leftovers()  # servers of a killed earlier run, before this one starts its own
    if stopped:
        print(f"stopped {len(stopped)} processes a killed test run left behind")
    mark_this_run()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh DOCSEARCH_HOME per test."""
    path = tmp_path / "home"
    monkeypatch.setenv("DOCSEARCH_HOME", str(path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return path


@pytest.fixture
def hashing_encoder():
    from search.encoding import HashingEncoder

    return HashingEncoder(dim=128)


@pytest.fixture(scope="session")
def real_encoder():
    """The packaged all-MiniLM-L6-v2, loaded once per test session."""
    from search.encoding import SentenceTransformerEncoder

    return SentenceTransformerEncoder(device="cpu")


@pytest.fixture
def tiny_docs():
    from search.ingest import load_beir_corpus

    return load_beir_corpus(BEIR_TINY / "corpus.jsonl")


@pytest.fixture
def index(tiny_docs, hashing_encoder):
    """A tiny index over beir_tiny with the hashing encoder (32-token chunks)."""
    from search.config import IndexConfig
    from search.index import SearchIndex

    config = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)
    return SearchIndex.build(tiny_docs, config, hashing_encoder)


@pytest.fixture
def store(tmp_path):
    """An empty SQLite feedback store."""
    from lifecycle.feedback import FeedbackStore

    store = FeedbackStore(f"sqlite:///{tmp_path / 'fb' / 'feedback.sqlite'}")
    yield store
    store.close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(tmp_path):
    """A Playwright page in Debian's headless Chromium (installed by `make test`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 120.0, proc=None) -> None:
    """Poll ``url`` until it answers 200, or fail with the server's output."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")
