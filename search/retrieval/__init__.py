"""Retrievers and what combines them: dense (FAISS), sparse (BM25), fusion, filters, snippets, the choice memory."""

from search.retrieval.dense import (
    FLAT,
    HNSW,
    HNSW_SQ8,
    IVF_SQ8,
    DenseIndex,
)
from search.retrieval.filters import (
    Filters,
    MetadataColumns,
)
from search.retrieval.fusion import (
    Ranking,
    min_max,
    rrf,
    weighted,
)
from search.retrieval.memory import (
    ENTRIES,
    INFO,
    MIN_ASKERS,
    TERMS,
    VECTORS,
    ChoiceMemory,
    expansion_terms,
)
from search.retrieval.snippets import (
    Snippet,
    make_snippet,
)
from search.retrieval.sparse import (
    SparseIndex,
)

__all__ = [
    "DenseIndex",
    "ENTRIES",
    "FLAT",
    "ChoiceMemory",
    "Filters",
    "HNSW",
    "HNSW_SQ8",
    "INFO",
    "IVF_SQ8",
    "MIN_ASKERS",
    "MetadataColumns",
    "Ranking",
    "Snippet",
    "SparseIndex",
    "TERMS",
    "VECTORS",
    "expansion_terms",
    "make_snippet",
    "min_max",
    "rrf",
    "weighted",
]
