"""Indexing: the index version made from the chunks and vectors of the batched steps
(``batches``: chunks, embeddings)."""

import time

import dagster as dg

from dagster_project.assets.batches import BUILDER, GROUP
from dagster_project.resources import DocsearchSettings, EncoderResource
from lifecycle.builds import version_for_pipeline
from search.index import Embeddings, folder_bytes, read_manifest
from search.ingest import Document

COUNTS_MATCH_CHUNKS = "counts_match_chunks"


@dg.asset(
    group_name=GROUP,
    op_tags=BUILDER,
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
    settings = docsearch.settings()
    made = version_for_pipeline(
        settings,
        store,
        source_documents,
        chunks,
        embeddings,
        docsearch.index_config(),
        encoder.load(),
    )
    version, reused = made.version, made.reused
    if made.policy_error:
        context.log.warning(f"access policy: {made.policy_error}")
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
            "parent_index_version": store.current() or "none",  # what served when it was built
            "access_policy_hash": made.policy_hash,
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
