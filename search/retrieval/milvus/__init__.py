"""The Milvus backend (``DOCSEARCH_INDEX_BACKEND=milvus``): the dense index over chunk vectors
and the BM25 index over documents kept in Milvus collections, answering the calls the FAISS
``DenseIndex`` and the bm25s ``SparseIndex`` answer. This package is the only code that imports
pymilvus (an import-linter contract says so); this module imports nothing of it, so the
manifest can name the kinds without loading a client."""

from __future__ import annotations

MILVUS_FLAT = "milvus_flat"  # exact inner product (Milvus FLAT)
MILVUS_HNSW = "milvus_hnsw"  # Milvus HNSW over float32 vectors
MILVUS_KINDS = (MILVUS_FLAT, MILVUS_HNSW)
# a version's dense file names its collection: a JSON object starting {"milvus": ...}
REFERENCE_HEAD = b'{"mi'
SPARSE_REFERENCE = "milvus.json"  # in the sparse/ folder of a version on Milvus


def is_milvus_kind(kind: str) -> bool:
    return kind in MILVUS_KINDS


__all__ = [
    "MILVUS_FLAT",
    "MILVUS_HNSW",
    "MILVUS_KINDS",
    "REFERENCE_HEAD",
    "SPARSE_REFERENCE",
    "is_milvus_kind",
]
