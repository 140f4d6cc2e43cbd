"""The data shapes of connected stores: a source, what a listing finds, what a sync did.

A source is a name and a URL (``s3://bucket/prefix``, ``smb://host/share/path``, ...) with
options; secrets are never among them: an option names the environment variable or the file
that holds a secret (``password_env=SMB_PASSWORD``), and the secret is read when the source
is opened, never stored or logged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class SourceError(ValueError):
    """A source that cannot be used as written (name, URL, option); the message says the fix."""


class SourceUnavailable(Exception):
    """The store cannot be listed or read now (down, unreachable, credentials refused): the
    sync stops, deletes nothing, and the next sync resumes from what was fetched."""


class ObjectError(Exception):
    """One object cannot be fetched (gone since the listing, no permission): that object
    fails, the sync goes on."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a source (None when it can): it prefixes document ids."""
    if NAME.fullmatch(name):
        return None
    return (
        f"{name!r} cannot name a source; use 1-63 lower-case letters, digits, '-' or '_', "
        "starting with a letter or digit (it prefixes the ids of the source's documents)"
    )


@dataclass(frozen=True)
class SourceSpec:
    """A configured source: where it is and how to read it (no secrets, see the module doc)."""

    name: str
    url: str
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower()


@dataclass(frozen=True)
class Known:
    """What the mirror remembers of one object from the last sync that fetched it."""

    version: str
    status: str  # "indexed" or "rejected" (parsed, refused with a reason)
    links: tuple[
        str, ...
    ] = ()  # a crawled page's links: a re-crawl of an unchanged page follows them


@dataclass(frozen=True)
class RemoteObject:
    """One object a listing found. ``version`` changes whenever its content may have (ETag,
    size and modification time, a page's ETag or Last-Modified, else a hash of its bytes)."""

    path: str  # inside the source: POSIX, relative
    version: str
    url: str = ""  # where it is, as people name it (never with a secret)
    size: int | None = None
    modified: float | None = None  # POSIX seconds, when the store says
    fmt: str | None = None  # the parser to use; None: by the path's suffix
    data: bytes | None = None  # fetched already (a crawled page)
    links: tuple[str, ...] = ()
    problem: str = ""  # listed but never to be read (a link out of a folder, a FIFO): why


@dataclass(frozen=True)
class Failure:
    """An object the sync could not bring in, and why."""

    path: str
    reason: str


@dataclass
class SyncReport:
    """What one sync of one source did. ``error`` set: the store failed part-way (nothing was
    deleted; what was fetched before is kept and the next sync goes on from there)."""

    source: str
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)
    error: str = ""
    listing_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "failed": len(self.failed),
            "failures": [{"path": f.path, "reason": f.reason} for f in self.failed],
            "error": self.error,
            "listing_seconds": round(self.listing_seconds, 3),
            "seconds": round(self.seconds, 3),
        }
