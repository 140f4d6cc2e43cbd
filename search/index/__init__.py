"""The search index: build it, save it as a version, load it, search it.

One module per seam: ``manifest`` (the folder's names and what its manifest records), ``disk``
(writing and reading a folder), ``parts`` (vectors, FAISS and BM25 from a config), ``build``
(the one function that assembles an index), ``query`` (the query path), ``search_index`` (the
``SearchIndex`` callers hold), ``store`` (versions and CURRENT), ``versions`` (build or reuse),
``changes`` (what changed since the newest version).
"""

from search.index.access import EVERYONE, AccessTable
from search.index.build import build_index, chunk_for_index
from search.index.changes import (
    DocumentChanges,
    diff_documents,
    folder_bytes,
    folder_signature,
    indexed_hashes,
)
from search.index.manifest import (
    ACCESS,
    CHUNKS,
    DENSE,
    DOCUMENTS,
    ENCODER,
    FORMAT_VERSION,
    MANIFEST,
    MEMORY,
    SPARSE,
    IndexLoadError,
    corpus_fingerprint,
    encoder_identity,
    encoder_matches,
    manifest_sha256,
    read_manifest,
)
from search.index.parts import BuildStats, Embeddings, embed_chunks
from search.index.query import ResultPage, SearchResult
from search.index.search_index import SearchIndex
from search.index.store import (
    ACTIVATIONS,
    CURRENT,
    VERSIONS,
    Cleaned,
    IndexStore,
    Retention,
    version_created,
)
from search.index.versions import BuiltIndex, build_and_store, build_or_reuse, encoder_for

__all__ = [
    "ACCESS",
    "ACTIVATIONS",
    "Cleaned",
    "Retention",
    "manifest_sha256",
    "AccessTable",
    "BuildStats",
    "BuiltIndex",
    "CHUNKS",
    "CURRENT",
    "DENSE",
    "DOCUMENTS",
    "DocumentChanges",
    "EVERYONE",
    "Embeddings",
    "FORMAT_VERSION",
    "IndexLoadError",
    "IndexStore",
    "MANIFEST",
    "ENCODER",
    "MEMORY",
    "SPARSE",
    "SearchIndex",
    "ResultPage",
    "SearchResult",
    "VERSIONS",
    "build_and_store",
    "build_index",
    "build_or_reuse",
    "encoder_for",
    "chunk_for_index",
    "corpus_fingerprint",
    "diff_documents",
    "embed_chunks",
    "encoder_identity",
    "encoder_matches",
    "folder_bytes",
    "folder_signature",
    "indexed_hashes",
    "read_manifest",
    "version_created",
]
