"""Index versions: atomic switches, and which stored version can be reused."""

import pytest

from search.config import IndexConfig
from search.index import IndexStore, SearchIndex

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


def test_store_versions_switch_atomically(index, tmp_path, hashing_encoder):
    store = IndexStore(tmp_path / "store")
    v1 = store.write(index)
    assert store.current() == v1
    v2 = store.write(index, activate=False)
    assert store.current() == v1 and store.versions() == [v1, v2]
    store.activate(v2)
    assert store.load(encoder=hashing_encoder).manifest["counts"]["chunks"] == 6
    with pytest.raises(ValueError, match="in use"):
        store.remove(v2)


def test_failed_save_keeps_the_current_version(index, tmp_path, monkeypatch):
    store = IndexStore(tmp_path / "store")
    v1 = store.write(index)

    def boom(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(index.dense, "save", boom)
    with pytest.raises(OSError):
        store.write(index)
    assert store.current() == v1 and store.versions() == [v1]


def test_find_reusable_picks_the_newest_match_and_skips_broken_versions(
    tiny_docs, hashing_encoder, tmp_path
):
    from search.encoding import HashingEncoder
    from search.index import DENSE, MANIFEST, corpus_fingerprint

    store = IndexStore(tmp_path / "store")
    corpus = corpus_fingerprint(tiny_docs)
    v1 = store.write(SearchIndex.build(tiny_docs, CONFIG, hashing_encoder))
    v2 = store.write(SearchIndex.build(tiny_docs, CONFIG, hashing_encoder), activate=False)
    shorter = CONFIG.replace(chunk_tokens=16)
    v3 = store.write(SearchIndex.build(tiny_docs, shorter, hashing_encoder), activate=False)
    assert store.versions() == [v1, v2, v3] and store.latest() == v3

    assert store.find_reusable(corpus, CONFIG, hashing_encoder) == v2  # newest of v1, v2
    assert store.find_reusable(corpus, shorter, hashing_encoder) == v3
    # query-time fields (fusion, weights) do not change what is built
    assert store.find_reusable(corpus, CONFIG.replace(dense_weight=0.9), hashing_encoder) == v2
    assert store.find_reusable(corpus, CONFIG, HashingEncoder(dim=64)) is None
    assert store.find_reusable(corpus_fingerprint(tiny_docs[1:]), CONFIG, hashing_encoder) is None

    with open(store.path(v2) / DENSE, "r+b") as fh:  # corrupt: checksum differs
        fh.seek(100)
        fh.write(b"\x00\xff\x00\xff")
    assert store.find_reusable(corpus, CONFIG, hashing_encoder) == v1
    (store.path(v1) / MANIFEST).write_text("{not json")  # unreadable manifest
    assert store.find_reusable(corpus, CONFIG, hashing_encoder) is None


def test_build_or_reuse_builds_once_and_never_replaces_what_serves(
    tiny_docs, hashing_encoder, tmp_path
):
    from search.index import build_or_reuse
    from search.settings import Settings

    settings = Settings(home=tmp_path / "home", docs=tmp_path / "docs", model="hashing-128")
    store = IndexStore(tmp_path / "store")
    first = build_or_reuse(tiny_docs, CONFIG, settings, store, hashing_encoder)
    assert not first.reused and store.current() == first.version  # an empty store: it serves
    again = build_or_reuse(
        tiny_docs, CONFIG.replace(fusion="rrf"), settings, store, hashing_encoder
    )
    assert again.reused and again.version == first.version
    assert again.index.config.fusion == "rrf"  # the caller's query-time settings apply
    other = build_or_reuse(
        tiny_docs, CONFIG.replace(chunk_tokens=16), settings, store, hashing_encoder
    )
    assert not other.reused and store.current() == first.version
