"""Building: from documents through the cache, and from chunks and vectors handed in."""

import numpy as np
import pytest

from search.config import IndexConfig
from search.encoding import EmbeddingCache
from search.index import SearchIndex

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


def test_cache_means_unchanged_text_is_not_encoded_twice(tiny_docs, hashing_encoder, tmp_path):
    from search.ingest import Document

    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first = SearchIndex.build(tiny_docs, CONFIG, hashing_encoder, cache)
    assert (first.build_stats.chunks_embedded, first.build_stats.chunks_reused) == (6, 0)
    changed = list(tiny_docs)
    changed[0] = Document("d1", "Parental leave policy", "Now twenty weeks.", changed[0].metadata)
    second = SearchIndex.build(changed, CONFIG, hashing_encoder, cache)
    assert (second.build_stats.chunks_embedded, second.build_stats.chunks_reused) == (1, 5)
    assert np.allclose(second.dense.vectors()[1:], first.dense.vectors()[1:])


class NoEncoding:
    """The hashing encoder, refusing to encode passages: building must not need it."""

    def __init__(self, encoder):
        self._encoder = encoder

    def __getattr__(self, name):
        return getattr(self._encoder, name)

    def encode(self, texts, progress=None):
        raise AssertionError(f"encoded {len(texts)} passages while building from vectors")


def test_building_from_handed_chunks_and_vectors_is_the_same_index(
    tiny_docs, hashing_encoder, tmp_path, monkeypatch
):
    from search.index import build_index, chunk_for_index, embed_chunks

    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    built = SearchIndex.build(tiny_docs, CONFIG, hashing_encoder, cache)
    chunks = chunk_for_index(tiny_docs, CONFIG, hashing_encoder)
    embeddings = embed_chunks(chunks, CONFIG, hashing_encoder, cache)  # all 6 from the cache

    def no_cache_read(*_args):
        raise AssertionError("read the embedding cache while building from vectors")

    monkeypatch.setattr(EmbeddingCache, "get_many", no_cache_read)
    handed = build_index(tiny_docs, chunks, embeddings, CONFIG, NoEncoding(hashing_encoder))

    assert [c.id for c in handed.chunks] == [c.id for c in built.chunks]
    np.testing.assert_array_equal(handed.dense.vectors(), built.dense.vectors())
    queries = ["parental leave weeks", "vpn error 809", "password length"]
    bm25_handed, bm25_built = handed.sparse.search(queries, 6), built.sparse.search(queries, 6)
    for a, b in zip(bm25_handed, bm25_built, strict=True):
        np.testing.assert_array_equal(a, b)  # same BM25 scores and rows
    for method in ("bm25", "dense", "hybrid"):
        run = {f"q{i}": q for i, q in enumerate(queries)}
        assert handed.run(run, k=6, method=method) == built.run(run, k=6, method=method)
    assert handed.documents == built.documents
    # the stats are the embedding step's: all 6 chunks came from the cache
    assert (handed.build_stats.chunks_embedded, handed.build_stats.chunks_reused) == (0, 6)


def test_build_stats_come_from_the_embedding_step(tiny_docs, hashing_encoder):
    from search.index import Embeddings, build_index, chunk_for_index, embed_chunks

    chunks = chunk_for_index(tiny_docs, CONFIG, hashing_encoder)
    vectors = embed_chunks(chunks, CONFIG, hashing_encoder, None).vectors
    embeddings = Embeddings(vectors, chunks_embedded=2, chunks_reused=4, seconds=1.5)
    stats = build_index(tiny_docs, chunks, embeddings, CONFIG, hashing_encoder).build_stats
    assert (stats.documents, stats.chunks) == (6, 6)
    assert (stats.chunks_embedded, stats.chunks_reused) == (2, 4)
    assert stats.encode_seconds == 1.5 and stats.seconds >= 1.5  # 1.5 s embedding + indexing


def test_vectors_that_do_not_fit_the_chunks_are_refused(tiny_docs, hashing_encoder):
    from search.index import Embeddings, build_index, chunk_for_index

    chunks = chunk_for_index(tiny_docs, CONFIG, hashing_encoder)
    five = Embeddings(np.zeros((5, 128), dtype=np.float32), 5, 0, 0.0)
    with pytest.raises(ValueError, match="6 chunks need 6 vectors of dimension 128"):
        build_index(tiny_docs, chunks, five, CONFIG, hashing_encoder)
    six = Embeddings(np.zeros((6, 128), dtype=np.float32), 6, 0, 0.0)
    with pytest.raises(ValueError, match="Chunks of documents not handed in"):
        build_index(tiny_docs[1:], chunks, six, CONFIG, hashing_encoder)
    with pytest.raises(ValueError, match="No documents to index"):
        build_index([], chunks, six, CONFIG, hashing_encoder)
