"""Shared fixtures: a tiny BEIR set, a fast hashing encoder, an isolated DOCSEARCH_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
BEIR_TINY = FIXTURES / "beir_tiny"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh DOCSEARCH_HOME per test."""
    path = tmp_path / "home"
    monkeypatch.setenv("DOCSEARCH_HOME", str(path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return path


@pytest.fixture
def hashing_encoder():
    from search.encoder import HashingEncoder

    return HashingEncoder(dim=128)


@pytest.fixture(scope="session")
def real_encoder():
    """The packaged all-MiniLM-L6-v2, loaded once per test session."""
    from search.encoder import SentenceTransformerEncoder

    return SentenceTransformerEncoder(device="cpu")


@pytest.fixture
def tiny_docs():
    from search.documents import load_beir_corpus

    return load_beir_corpus(BEIR_TINY / "corpus.jsonl")
