"""Chunks and embeddings, computed in batches that Dagster runs side by side.

Each is a graph asset: a planning step on the builder cuts the work into batches (dynamic
outputs) carrying the index config it chose, a step per batch does the work wherever the
executor puts it (a process of the multiprocess executor, a Celery worker on any machine), and
a merging step puts the batches back in order and checks the result. Steps that read or write
the builder's home carry the builder queue's tag; the Celery executor sends them to the
workers that listen on it (``lifecycle.deployment``); other executors ignore it.
"""

import dagster as dg

from dagster_project.resources import DocsearchSettings, EncoderResource
from lifecycle.batches import (
    Batch,
    batch_encoder,
    chunk_batch,
    embed_batch,
    merge_chunks,
    merge_embeddings,
    split,
)
from lifecycle.deployment import BUILDER_QUEUE
from search.progress import ProgressPrinter

GROUP = "indexing"
NO_EMPTY_CHUNKS = "no_empty_chunks"
ONE_VECTOR_PER_CHUNK = "one_vector_per_chunk"
BUILDER = {"dagster-celery/queue": BUILDER_QUEUE}  # dagster_celery.tags.DAGSTER_CELERY_QUEUE_TAG


def _emit(batches: list[Batch]):
    for batch in batches:
        yield dg.DynamicOutput(batch, mapping_key=batch.key)


@dg.op(out=dg.DynamicOut(), tags=BUILDER)
def plan_chunking(
    context: dg.OpExecutionContext,
    docsearch: DocsearchSettings,
    encoder: EncoderResource,
    documents,
):
    """Documents in batches of DOCSEARCH_BATCH_SIZE, with the serving encoder's config; the
    encoder's export (an int8 one calibrated on these documents) is made here, on the builder,
    before any batch needs it."""
    encoder.load(documents)
    batches = split(documents, docsearch.settings().batch_size, docsearch.index_config())
    context.log.info(f"{len(documents)} documents in {len(batches)} chunking batches")
    yield from _emit(batches)


@dg.op
def chunk_documents(context: dg.OpExecutionContext, docsearch: DocsearchSettings, batch: Batch):
    """One batch of documents cut into passages by the encoder's own tokenizer."""
    exported = docsearch.settings().exported_models_dir
    number, chunks = chunk_batch(batch, batch_encoder(batch, exported))
    context.log.info(f"batch {number + 1}/{batch.total}: {len(chunks)} chunks")
    return number, chunks


@dg.op(out={"result": dg.Out(), "check": dg.Out(is_required=False)})
def collect_chunks(context: dg.OpExecutionContext, docsearch: DocsearchSettings, parts):
    chunks = merge_chunks(parts)
    config = docsearch.index_config()
    empty = [c.id for c in chunks if not c.text.strip()]
    context.log.info(f"{len(chunks)} chunks from {len(parts)} batches")
    yield dg.Output(
        chunks,
        "result",
        metadata={
            "chunks": len(chunks),
            "documents": len({c.doc_id for c in chunks}),
            "batches": len(parts),
            "chunk_tokens": config.chunk_tokens,
            "chunk_overlap": config.chunk_overlap,
            "characters": sum(len(c.text) for c in chunks),
        },
    )
    yield dg.AssetCheckResult(
        check_name=NO_EMPTY_CHUNKS,
        asset_key="chunks",
        passed=not empty,
        metadata={"empty_chunks": len(empty), "first": ", ".join(empty[:5]) or "none"},
    )


@dg.graph_asset(
    group_name=GROUP,
    ins={"source_documents": dg.AssetIn()},
    check_specs=[
        dg.AssetCheckSpec(NO_EMPTY_CHUNKS, asset="chunks", description="Every chunk has text.")
    ],
)
def chunks(source_documents):
    """Passages of at most ``chunk_tokens`` encoder tokens on sentence boundaries, with overlap,
    cut batch by batch (documents in batches of DOCSEARCH_BATCH_SIZE)."""
    result, check = collect_chunks(plan_chunking(source_documents).map(chunk_documents).collect())
    return {"result": result, "chunks_no_empty_chunks": check}


@dg.op(out=dg.DynamicOut(), tags=BUILDER)
def plan_embedding(context: dg.OpExecutionContext, docsearch: DocsearchSettings, chunks):
    batches = split(chunks, docsearch.settings().batch_size, docsearch.index_config())
    context.log.info(f"{len(chunks)} chunks in {len(batches)} embedding batches")
    yield from _emit(batches)


@dg.op
def embed_chunks(context: dg.OpExecutionContext, docsearch: DocsearchSettings, batch: Batch):
    """One batch of chunk vectors through this machine's embedding cache."""
    progress = ProgressPrinter(log=context.log.info, every=5.0)
    settings = docsearch.settings()
    encoder = batch_encoder(batch, settings.exported_models_dir)
    done = embed_batch(batch, encoder, settings.cache_path, progress)
    context.log.info(
        f"batch {batch.number + 1}/{batch.total}: {done.embeddings.chunks_embedded} encoded, "
        f"{done.embeddings.chunks_reused} from the cache"
    )
    return done


@dg.op(out={"result": dg.Out(), "check": dg.Out(is_required=False)}, tags=BUILDER)
def collect_embeddings(context: dg.OpExecutionContext, encoder: EncoderResource, chunks, parts):
    model = encoder.load()
    result = merge_embeddings(parts, model.fingerprint, model.dim)
    context.log.info(
        f"{result.chunks_embedded} chunks encoded, {result.chunks_reused} reused from the cache"
    )
    yield dg.Output(
        result,
        "result",
        metadata={
            "chunks_embedded": result.chunks_embedded,
            "chunks_reused": result.chunks_reused,
            "batches": len(parts),
            "model": model.model_id,
            "dim": model.dim,
            "bytes": int(result.vectors.nbytes),
            "seconds": round(result.seconds, 2),
        },
    )
    yield dg.AssetCheckResult(
        check_name=ONE_VECTOR_PER_CHUNK,
        asset_key="embeddings",
        passed=len(result.vectors) == len(chunks),
        metadata={"vectors": len(result.vectors), "chunks": len(chunks)},
    )


@dg.graph_asset(
    group_name=GROUP,
    ins={"chunks": dg.AssetIn()},
    check_specs=[
        dg.AssetCheckSpec(
            ONE_VECTOR_PER_CHUNK, asset="embeddings", description="One vector per chunk."
        )
    ],
)
def embeddings(chunks):
    """Chunk vectors, batch by batch, through the embedding cache: only chunks whose text is
    new are encoded."""
    parts = plan_embedding(chunks).map(embed_chunks).collect()
    result, check = collect_embeddings(chunks, parts)
    return {"result": result, "embeddings_one_vector_per_chunk": check}
