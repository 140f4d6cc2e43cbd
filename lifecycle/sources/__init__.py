"""Sources in the product: the catalog in the SQL store (``catalog``), syncs and what the
pipeline asks of them (``service``), and the index version over the corpus (``publish``)."""

from lifecycle.sources.catalog import Source, SourceCatalog
from lifecycle.sources.publish import Published, publish
from lifecycle.sources.service import (
    SyncOutcome,
    add_source,
    changed_since_sync,
    due_sources,
    list_sources,
    remove_source,
    stale_sources,
    sync_one,
    sync_sources,
)

__all__ = [
    "Published",
    "Source",
    "SourceCatalog",
    "SyncOutcome",
    "add_source",
    "changed_since_sync",
    "due_sources",
    "list_sources",
    "publish",
    "remove_source",
    "stale_sources",
    "sync_one",
    "sync_sources",
]
