"""Fixtures of the library tests: a tiny index over beir_tiny and a feedback store."""

import pytest

from search.config import IndexConfig
from search.feedback import FeedbackStore
from search.index import SearchIndex

TINY_CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


@pytest.fixture
def index(tiny_docs, hashing_encoder):
    return SearchIndex.build(tiny_docs, TINY_CONFIG, hashing_encoder)


@pytest.fixture
def store(tmp_path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'fb' / 'feedback.sqlite'}")
    yield store
    store.close()
