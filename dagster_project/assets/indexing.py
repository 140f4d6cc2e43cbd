"""Indexing: chunks, their embeddings (only new text is encoded), and the index version."""

import time

import dagster as dg

from dagster_project.resources import DocsearchSettings, EncoderResource
from lifecycle.builds import version_for_pipeline
from search.encoding import EmbeddingCache
from search.index import Embeddings, chunk_for_index, embed_chunks, folder_bytes, read_manifest
from search.ingest import Document
from search.progress import ProgressPrinter

GROUP = "indexing"
NO_EMPTY_CHUNKS = "no_empty_chunks"
ONE_VECTOR_PER_CHUNK = "one_vector_per_chunk"
COUNTS_MATCH_CHUNKS = "counts_match_chunks"


@dg.asset(
    group_name=GROUP,
    check_specs=[
        dg.AssetCheckSpec(NO_EMPTY_CHUNKS, asset="chunks", description="Every chunk has text.")
    ],
)
def chunks(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    encoder: EncoderResource,
    source_documents: list[Document],
):
    """Passages of at most ``chunk_tokens`` encoder tokens on sentence boundaries, with overlap."""
    config = docsearch.index_config()
    started = time.perf_counter()
    result = chunk_for_index(source_documents, config, encoder.load(source_documents))
    empty = [c.id for c in result if not c.text.strip()]
    context.log.info(f"{len(result)} chunks from {len(source_documents)} documents")
    return dg.MaterializeResult(
        value=result,
        metadata={
            "chunks": len(result),
            "documents": len(source_documents),
            "chunk_tokens": config.chunk_tokens,
            "chunk_overlap": config.chunk_overlap,
            "characters": sum(len(c.text) for c in result),
            "seconds": round(time.perf_counter() - started, 2),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=NO_EMPTY_CHUNKS,
                passed=not empty,
                metadata={"empty_chunks": len(empty), "first": ", ".join(empty[:5]) or "none"},
            )
        ],
    )


@dg.asset(
    group_name=GROUP,
    check_specs=[
        dg.AssetCheckSpec(
            ONE_VECTOR_PER_CHUNK, asset="embeddings", description="One vector per chunk."
        )
    ],
)
def embeddings(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    encoder: EncoderResource,
    chunks,
):
    """Chunk vectors through the embedding cache: only chunks whose text is new are encoded."""
    settings = docsearch.settings()
    model = encoder.load()
    progress = ProgressPrinter(log=context.log.info, every=5.0)
    cache = EmbeddingCache(settings.cache_path)
    try:
        result = embed_chunks(chunks, docsearch.index_config(), model, cache, progress)
    finally:
        cache.close()
    context.log.info(
        f"{result.chunks_embedded} chunks encoded, {result.chunks_reused} reused from the cache"
    )
    return dg.MaterializeResult(
        value=result,
        metadata={
            "chunks_embedded": result.chunks_embedded,
            "chunks_reused": result.chunks_reused,
            "model": model.model_id,
            "dim": model.dim,
            "bytes": int(result.vectors.nbytes),
            "seconds": round(result.seconds, 2),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=ONE_VECTOR_PER_CHUNK,
                passed=len(result.vectors) == len(chunks),
                metadata={"vectors": len(result.vectors), "chunks": len(chunks)},
            )
        ],
    )


@dg.asset(
    group_name=GROUP,
    check_specs=[
        dg.AssetCheckSpec(
            COUNTS_MATCH_CHUNKS,
            asset="index_version",
            description="The saved index holds exactly the chunks and documents it was built from.",
        )
    ],
)
def index_version(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    encoder: EncoderResource,
    source_documents: list[Document],
    chunks,
    embeddings: Embeddings,
):
    """A new version in the IndexStore (not yet CURRENT: the registry's gate decides) made from
    the chunks and vectors above, or the newest stored one built from the same corpus, config
    and encoder. Value: version, path, and whether it was reused."""
    store = docsearch.store()
    started = time.perf_counter()
    version, reused = version_for_pipeline(
        store, source_documents, chunks, embeddings, docsearch.index_config(), encoder.load()
    )
    path = store.path(version)
    manifest = read_manifest(path)
    context.log.info(f"index version {version} ({'reused' if reused else 'new'}) at {path}")
    counts = manifest["counts"]
    return dg.MaterializeResult(
        value={"version": version, "path": str(path), "reused": reused},
        metadata={
            "version": version,
            "path": dg.MetadataValue.path(str(path)),
            "reused": reused,
            "documents": counts["documents"],
            "chunks": counts["chunks"],
            "dense_index": manifest["dense_index"],
            "index_bytes": folder_bytes(path),
            "corpus_fingerprint": manifest["corpus_fingerprint"],
            "seconds": round(time.perf_counter() - started, 2),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=COUNTS_MATCH_CHUNKS,
                passed=counts["chunks"] == len(chunks)
                and counts["documents"] == len(source_documents),
                metadata={
                    "index_chunks": counts["chunks"],
                    "chunks": len(chunks),
                    "index_documents": counts["documents"],
                    "documents": len(source_documents),
                },
            )
        ],
    )
