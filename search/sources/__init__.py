"""Connected document stores: S3 buckets, SMB shares, WebDAV libraries, web sites, folders.

Each source is synced into a local mirror (``mirror``: fetched bytes, versions, parsed
documents) by ``sync``: what changed since the last sync is fetched and parsed, what is gone
is forgotten, and a store that fails part-way leaves the mirror at its last checkpoint. The
index is built over the documents folder and every mirror (``corpus``). The modules:
``model`` (shapes and errors), ``secrets`` (credentials named, never stored), ``retry``
(backoff), ``connectors`` (one per kind of store), ``mirror``, ``sync``, ``corpus``.
"""

from search.sources.connectors import (
    LINKED,
    OPTIONS,
    OpenSettings,
    check_source,
    interval_of,
    kind_of,
    open_connector,
)
from search.sources.corpus import corpus_signature, incomplete_sources, load_corpus, mirrors
from search.sources.mirror import Mirror
from search.sources.model import (
    Failure,
    ObjectError,
    RemoteObject,
    SourceError,
    SourceSpec,
    SourceUnavailable,
    SyncReport,
    name_problem,
)
from search.sources.retry import RetryPolicy
from search.sources.sync import SyncOptions, sync

__all__ = [
    "LINKED",
    "OPTIONS",
    "Failure",
    "Mirror",
    "ObjectError",
    "OpenSettings",
    "RemoteObject",
    "RetryPolicy",
    "SourceError",
    "SourceSpec",
    "SourceUnavailable",
    "SyncOptions",
    "SyncReport",
    "check_source",
    "corpus_signature",
    "incomplete_sources",
    "interval_of",
    "kind_of",
    "load_corpus",
    "mirrors",
    "name_problem",
    "open_connector",
    "sync",
]
