"""The parts an index is made of, each made from an ``IndexConfig``: chunk vectors (through the
embedding cache), the FAISS index over them, the BM25 index over documents; and a build's stats."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.chunking import Chunk
from search.config import IndexConfig
from search.encoding import EmbeddingCache, Encoder, embed_with_cache
from search.progress import ProgressFn
from search.retrieval import DenseIndex, SparseIndex
from search.retrieval.milvus import SPARSE_REFERENCE, is_milvus_kind

MILVUS = "milvus"  # IndexConfig.index_backend of collections in Milvus

EMBED = "embed"  # the progress stage of encoding chunks


@dataclass(frozen=True)
class BuildStats:
    """What one build did; recorded in the manifest under ``build``."""

    documents: int
    chunks: int
    chunks_embedded: int  # encoded by the model
    chunks_reused: int  # read back from the embedding cache
    seconds: float
    encode_seconds: float

    @classmethod
    def nothing_encoded(cls, documents: int, chunks: int) -> BuildStats:
        """An index written from one read back from disk (a policy applied to a stored
        version, say): every chunk's vector was reused, none encoded."""
        return cls(documents, chunks, 0, chunks, 0.0, 0.0)


@dataclass(frozen=True)
class Embeddings:
    """Vectors for chunks, row for row, and how many had to be encoded."""

    vectors: np.ndarray
    chunks_embedded: int
    chunks_reused: int
    seconds: float


def embed_chunks(
    chunks: Sequence[Chunk],
    config: IndexConfig,
    encoder: Encoder,
    cache: EmbeddingCache | None,
    progress: ProgressFn | None = None,
) -> Embeddings:
    """Embed chunk texts through the cache: unchanged text is read back, never re-encoded."""
    started = time.perf_counter()
    texts = [c.embedding_text(config.title_in_chunks) for c in chunks]
    # embed_with_cache reports (done, total); the index speaks ProgressFn (stage, done, total)
    report = (lambda done, total: progress(EMBED, done, total)) if progress else None
    vectors, encoded = embed_with_cache(encoder, texts, cache, report)
    return Embeddings(vectors, encoded, len(texts) - encoded, time.perf_counter() - started)


def dense_index(vectors: np.ndarray, config: IndexConfig) -> DenseIndex:
    """Exact inner product over float32 up to ``approximate_above`` chunks (small collections
    rank exactly as they always did); above, HNSW over 8-bit codes (``DenseIndex.describe`` says
    which, with its parameters; the manifest records it). With the Milvus backend, a new
    collection at ``milvus_uri``, FLAT or HNSW by the same threshold."""
    if config.index_backend == MILVUS:
        from search.retrieval.milvus.dense import MilvusDenseIndex

        return MilvusDenseIndex.build(
            vectors,
            config.approximate_above,
            config.milvus_uri,
            config.milvus_collection_prefix,
            config.hnsw_m,
            config.hnsw_ef_search,
        )
    return DenseIndex.build(
        vectors, config.approximate_above, config.hnsw_m, config.hnsw_ef_search, compress=True
    )


def bm25_text(title: str, body: str, expansion: str = "") -> str:
    """What BM25 indexes of one document: its title, its body and the words users chose it for
    (the memory's expansion). A title-only record's body, read back from its chunks, is its
    title again (it is chunked from its title): it is indexed once, as at the first build."""
    if body.strip() == title.strip():
        body = ""
    return "\n".join(part for part in (title, body, expansion) if part)


def bm25_index(texts: list[str], config: IndexConfig) -> SparseIndex:
    """One BM25 text per document (``bm25_text``), in the index's document order; with the
    Milvus backend, a new collection scored by Milvus's BM25 function."""
    args = (texts, config.bm25_k1, config.bm25_b, config.bm25_method, config.stemmer)
    if config.index_backend == MILVUS:
        from search.retrieval.milvus.sparse import MilvusSparseIndex

        return MilvusSparseIndex.build(
            *args,
            config.stopwords,
            uri=config.milvus_uri,
            prefix=config.milvus_collection_prefix,
        )
    return SparseIndex.build(*args, config.stopwords)


def load_dense(path: Path, kind: str) -> DenseIndex:
    """A version's dense index: its FAISS file, or the Milvus collection that file names."""
    if is_milvus_kind(kind):
        from search.retrieval.milvus.dense import MilvusDenseIndex

        return MilvusDenseIndex.load(path, kind)  # type: ignore[return-value]
    return DenseIndex.load(path, kind)


def load_sparse(folder: Path) -> SparseIndex:
    """A version's BM25 index: its bm25s files, or the Milvus collection they name."""
    if (folder / SPARSE_REFERENCE).is_file():
        from search.retrieval.milvus.sparse import MilvusSparseIndex

        return MilvusSparseIndex.load(folder)
    return SparseIndex.load(folder)


def drop_unsaved(dense: DenseIndex, sparse: SparseIndex) -> None:
    """Drop the Milvus collections of an index that no version names (the gate's build,
    evaluated and thrown away); FAISS and bm25s indexes need nothing."""
    for part in (dense, sparse):
        collection = getattr(part, "collection", None)
        if collection is not None:
            collection.drop()
