"""Building an index: one function makes it from the documents, chunks and vectors it is handed.

``build_index`` is the only place an index is assembled. ``build_from_documents`` (what
``SearchIndex.build`` runs) chunks and embeds first; the Dagster pipeline hands over the chunks
and vectors its own steps made, so nothing is chunked twice or read from the cache twice.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from search.chunking import Chunk, chunk_documents
from search.config import IndexConfig
from search.encoding import EmbeddingCache, Encoder
from search.index.manifest import recorded_config
from search.index.parts import (
    BuildStats,
    Embeddings,
    bm25_index,
    bm25_text,
    dense_index,
    embed_chunks,
)
from search.index.search_index import SearchIndex
from search.ingest import Document
from search.progress import ProgressFn


def chunk_for_index(
    documents: Sequence[Document], config: IndexConfig, encoder: Encoder
) -> list[Chunk]:
    """The passages ``config`` cuts ``documents`` into (the encoder's tokenizer counts tokens)."""
    return chunk_documents(documents, encoder, config.chunk_tokens, config.chunk_overlap)


def build_index(
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    embeddings: Embeddings,
    config: IndexConfig,
    encoder: Encoder,
) -> SearchIndex:
    """The index over ``documents`` from their ``chunks`` and the chunks' vectors, row for row.

    BM25 scores whole documents (length normalisation over the document, as Lucene does); the
    dense index scores chunks, max-pooled per document at query time. The build stats take
    what was encoded and reused from ``embeddings``.
    """
    started = time.perf_counter()
    _check_documents(documents)
    _check_chunks(documents, chunks, embeddings, encoder)
    dense = dense_index(embeddings.vectors, config)
    sparse = bm25_index([bm25_text(d.title, d.text) for d in documents], config)
    docs = {d.id: {"title": d.title, "metadata": dict(d.metadata)} for d in documents}
    index = SearchIndex(
        recorded_config(config, encoder), encoder, list(chunks), docs, dense, sparse
    )
    index.build_stats = BuildStats(
        documents=len(documents),
        chunks=len(chunks),
        chunks_embedded=embeddings.chunks_embedded,
        chunks_reused=embeddings.chunks_reused,
        seconds=embeddings.seconds + time.perf_counter() - started,
        encode_seconds=embeddings.seconds,
    )
    return index


def build_from_documents(
    documents: Sequence[Document],
    config: IndexConfig,
    encoder: Encoder,
    cache: EmbeddingCache | None = None,
    progress: ProgressFn | None = None,
) -> SearchIndex:
    """Chunk, embed (through the cache) and index ``documents``."""
    started = time.perf_counter()
    _check_documents(documents)
    chunks = chunk_for_index(documents, config, encoder)
    _require_text(chunks)  # before encoding anything
    embeddings = embed_chunks(chunks, config, encoder, cache, progress)
    index = build_index(documents, chunks, embeddings, config, encoder)
    index.build_stats = dataclasses.replace(
        index.build_stats, seconds=time.perf_counter() - started
    )
    return index


def _check_documents(documents: Sequence[Document]) -> None:
    if not documents:
        raise ValueError("No documents to index: check the folder and the parse report.")
    ids = [d.id for d in documents]
    if len(set(ids)) != len(ids):
        raise ValueError("Document ids must be unique.")


def _require_text(chunks: Sequence[Chunk]) -> None:
    if not chunks:
        raise ValueError("The documents contain no text to index.")


def _check_chunks(
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    embeddings: Embeddings,
    encoder: Encoder,
) -> None:
    _require_text(chunks)
    shape = embeddings.vectors.shape
    if shape != (len(chunks), encoder.dim):
        raise ValueError(
            f"{len(chunks)} chunks need {len(chunks)} vectors of dimension {encoder.dim}, got an "
            f"array of shape {shape}: embed these chunks with this encoder (embed_chunks)."
        )
    unknown = {c.doc_id for c in chunks} - {d.id for d in documents}
    if unknown:
        raise ValueError(
            f"Chunks of documents not handed in: {sorted(unknown)[:5]}; chunk these documents."
        )
