"""What every connector offers the sync: a listing with versions, and an object's bytes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from search.sources.model import Known, RemoteObject

COMMON_OPTIONS = {
    "interval": "how often the source is synced, e.g. 900, 15m, 6h, 1d "
    "(default: DOCSEARCH_SOURCE_INTERVAL_SECONDS)",
}


class Connector(Protocol):
    """One store, opened with its credentials. ``objects`` lists everything under the source
    (raising ``SourceUnavailable`` when the store cannot be listed: a partial listing must
    never be taken for deletions); ``fetch`` reads one object (``ObjectError`` when that
    object alone fails). ``known`` is what the mirror remembers, for stores that can answer
    "unchanged" themselves (a web server's 304)."""

    def objects(self, known: Mapping[str, Known]) -> Iterator[RemoteObject]: ...

    def fetch(self, obj: RemoteObject) -> bytes: ...

    def close(self) -> None: ...
