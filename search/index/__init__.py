"""The search index: build it, save it as a version, load it, search it."""

from search.index.incremental import (
    DocumentChanges,
    Embeddings,
    assemble_index,
    diff_documents,
    embed_chunks,
    folder_bytes,
    folder_signature,
    indexed_hashes,
    latest_version,
    matching_version,
)
from search.index.search_index import (
    FORMAT_VERSION,
    MANIFEST,
    MEMORY,
    BuildStats,
    IndexLoadError,
    ProgressFn,
    SearchIndex,
    SearchResult,
    corpus_fingerprint,
    encoder_identity,
    encoder_matches,
    read_manifest,
)
from search.index.store import (
    CURRENT,
    IndexStore,
)
from search.index.versions import (
    BuiltIndex,
    build_and_store,
    build_or_reuse,
)

__all__ = [
    "BuildStats",
    "BuiltIndex",
    "CURRENT",
    "DocumentChanges",
    "Embeddings",
    "FORMAT_VERSION",
    "IndexLoadError",
    "IndexStore",
    "MANIFEST",
    "MEMORY",
    "ProgressFn",
    "SearchIndex",
    "SearchResult",
    "assemble_index",
    "build_and_store",
    "build_or_reuse",
    "corpus_fingerprint",
    "diff_documents",
    "embed_chunks",
    "encoder_identity",
    "encoder_matches",
    "folder_bytes",
    "folder_signature",
    "indexed_hashes",
    "latest_version",
    "matching_version",
    "read_manifest",
]
