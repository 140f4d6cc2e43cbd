"""docsearch's retrieval core: documents in, ranked documents out.

Ingestion and parsing (``search.ingest``), encoders and their cache (``search.encoding``),
chunking, the retrievers and fusion (``search.retrieval``) and the index on disk
(``search.index``). It imports no tracker, orchestrator or web framework, nor any package of
the layers above it (``lint-imports`` checks this). Names are resolved on first use, so
importing one submodule does not load the whole core.
"""

from importlib import import_module

_EXPORTS = {
    "Document": "search.ingest",
    "Filters": "search.retrieval",
    "Fusion": "search.config",
    "IndexConfig": "search.config",
    "IndexStore": "search.index",
    "Method": "search.config",
    "SearchIndex": "search.index",
    "SearchResult": "search.index",
    "Settings": "search.settings",
    "load_encoder": "search.encoding",
    "load_folder": "search.ingest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'search' has no attribute {name!r}")
