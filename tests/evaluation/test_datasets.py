"""The index a labeled set runs against: built once, then reused; the served one when asked."""

import logging
from pathlib import Path

import pytest

from evaluation import index_for_labeled_set, index_name_for, labeled_set_store
from search.config import IndexConfig
from search.encoding import EmbeddingCache, HashingEncoder
from search.index import CHUNKS
from search.settings import Settings

BEIR_TINY = Path(__file__).parents[1] / "fixtures" / "beir_tiny"
CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


@pytest.fixture
def settings(home) -> Settings:
    return Settings(home=home, docs=home / "docs", model="hashing-128")


def test_a_labeled_set_index_is_built_once_then_reused(settings, monkeypatch):
    encoded = []
    put_many = EmbeddingCache.put_many

    def counting_put(cache, fingerprint, hashes, vectors):
        encoded.extend(hashes)  # only newly encoded vectors are written to the cache
        put_many(cache, fingerprint, hashes, vectors)

    monkeypatch.setattr(EmbeddingCache, "put_many", counting_put)
    first = index_for_labeled_set(BEIR_TINY, settings, CONFIG)
    assert not first.reused and len(encoded) == 6  # six one-chunk documents
    store = labeled_set_store(BEIR_TINY, settings)
    assert (
        store.root
        == settings.index_root("eval-beir_tiny")
        == settings.index_root(index_name_for(BEIR_TINY))
    )
    assert store.current() == first.version  # nothing served yet: the first build does

    again = index_for_labeled_set(BEIR_TINY, settings, CONFIG.replace(dense_weight=0.3))
    assert again.reused and again.version == first.version and len(encoded) == 6
    assert again.index.config.dense_weight == 0.3  # query-time settings are the caller's
    assert store.versions() == [first.version]


def test_prefer_current_serves_the_promoted_version_as_it_is(settings):
    served = index_for_labeled_set(BEIR_TINY, settings, CONFIG)
    # a measurement with another encoder is stored beside it, but does not serve
    other = index_for_labeled_set(
        BEIR_TINY, settings, CONFIG.replace(model="hashing-64"), encoder=HashingEncoder(dim=64)
    )
    assert other.version != served.version
    assert labeled_set_store(BEIR_TINY, settings).current() == served.version

    current = index_for_labeled_set(
        BEIR_TINY, settings, CONFIG.replace(model="hashing-64"), prefer_current=True
    )
    assert current.reused and current.version == served.version
    assert current.index.encoder.dim == 128  # loaded with the encoder it was built with
    # without prefer_current the config decides: the hashing-64 version is reused
    measured = index_for_labeled_set(
        BEIR_TINY, settings, CONFIG.replace(model="hashing-64"), encoder=HashingEncoder(dim=64)
    )
    assert measured.version == other.version


def test_a_broken_current_version_gives_way_to_a_build(settings, caplog):
    served = index_for_labeled_set(BEIR_TINY, settings, CONFIG)
    store = labeled_set_store(BEIR_TINY, settings)
    (store.path(served.version) / CHUNKS).write_text("")  # checksum no longer matches
    with caplog.at_level(logging.WARNING):
        rebuilt = index_for_labeled_set(
            BEIR_TINY, settings, CONFIG, encoder=HashingEncoder(dim=128), prefer_current=True
        )
    assert "cannot be used" in caplog.text
    assert not rebuilt.reused and rebuilt.version != served.version
