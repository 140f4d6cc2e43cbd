"""A source's local mirror: the objects fetched from the store, their versions and their
parsed documents, so an unchanged object is never fetched or parsed again.

Layout of ``<sources_dir>/<name>/``::

    state.sqlite   objects(path, version, url, size, modified, fmt, links, status, reason,
                   document): one row per object the last syncs brought in; meta(key, value):
                   the cursor (a digest of the last complete listing), the generation
                   (counts the changes) and the generation the last complete sync left
                   (``complete_generation``), and ``incomplete`` while a sync that stopped
                   part-way has changed some objects but not all
    files/PATH     the fetched bytes (what a download of an S3 or SMB document serves)

Every batch of a sync is one transaction, written after its files: a sync stopped part-way
leaves rows only for objects whose file and document are complete, so the next sync fetches
what is missing and nothing twice. The documents carry ids and paths inside the source; the
corpus prefixes them with the source's name (``search.sources.corpus``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from search.ingest import Document
from search.sources.model import Known, SourceUnavailable

STATE = "state.sqlite"
FILES = "files"
SYNC_LOCK = ".sync.lock"  # held (flock) while a sync writes the mirror
INDEXED, REJECTED = "indexed", "rejected"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects (path TEXT PRIMARY KEY, version TEXT NOT NULL,"
    " url TEXT NOT NULL, size INTEGER, modified REAL, fmt TEXT, links TEXT NOT NULL,"
    " status TEXT NOT NULL, reason TEXT NOT NULL, document TEXT)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


def path_problem(path: str) -> str | None:
    """Why an object's path cannot be mirrored as a file (None when it can)."""
    parts = PurePosixPath(path).parts
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return "the name is not a relative path; rename it in the store"
    if any(p in (".", "..") for p in parts) or path.endswith("/"):
        return "the name steps out of its folder ('..'); rename it in the store"
    if any(len(p.encode()) > 255 for p in parts):
        return "a part of the name is longer than 255 bytes; shorten it in the store"
    return None


def hidden(path: str) -> bool:
    """A hidden name (a part starting with "."): skipped, as in the documents folder."""
    return any(p.startswith(".") for p in PurePosixPath(path).parts)


@dataclass(frozen=True)
class Entry:
    """One mirrored object as the corpus reads it."""

    path: str
    version: str
    url: str
    document: Document


class Mirror:
    """The mirror folder of one source (see the module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.files = self.folder / FILES
        self.files.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.folder / STATE, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._db.commit()

    @staticmethod
    def exists(folder: str | Path) -> bool:
        return (Path(folder) / STATE).is_file()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Mirror:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    @contextlib.contextmanager
    def syncing(self) -> Iterator[None]:
        """Held by one sync at a time (the kernel releases it however the process ends); a
        second sync of the same source at once (the CLI beside a Dagster run) is refused."""
        fd = os.open(self.folder / SYNC_LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SourceUnavailable(
                    "another sync of this source is running; this one changed nothing"
                ) from None
            yield
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ state
    def known(self) -> dict[str, Known]:
        rows = self._db.execute("SELECT path, version, status, links FROM objects")
        return {p: Known(v, s, tuple(json.loads(links))) for p, v, s, links in rows}

    def meta(self, key: str, default: str = "") -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, **values: str) -> None:
        with self._db:
            self._db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(k, str(v)) for k, v in values.items()],
            )

    @property
    def incomplete(self) -> bool:
        """A sync stopped part-way after changing objects: the mirror is between two states
        of its store until a sync completes."""
        return bool(self.meta("incomplete"))

    @property
    def generation(self) -> int:
        """How many changes the mirror has taken: equal generations, equal content."""
        return int(self.meta("generation", "0"))

    def _advance(self) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
        )

    # ------------------------------------------------------------------ files
    def file(self, path: str) -> Path:
        """Where an object's bytes are kept (``path`` checked with ``path_problem`` first)."""
        return self.files.joinpath(*PurePosixPath(path).parts)

    def write_file(self, path: str, data: bytes, modified: float | None) -> Path:
        """Write an object's bytes atomically, dated as the store dates it (the document's
        date falls back to it)."""
        target = self.file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".fetch-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            if modified is not None:
                os.utime(tmp, (modified, modified))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    # ------------------------------------------------------------------ changes
    def record(self, rows: Iterable[tuple]) -> None:
        """Store (path, version, url, size, modified, fmt, links, status, reason, document)
        rows in one transaction: the checkpoint of a batch."""
        rows = [
            (p, v, u, s, m, f, json.dumps(list(links)), st, r, _dump(d))
            for p, v, u, s, m, f, links, st, r, d in rows
        ]
        if not rows:
            return
        with self._db:
            self._db.executemany(
                "INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO "
                "UPDATE SET version = excluded.version, url = excluded.url, size = excluded.size,"
                " modified = excluded.modified, fmt = excluded.fmt, links = excluded.links,"
                " status = excluded.status, reason = excluded.reason,"
                " document = excluded.document",
                rows,
            )
            self._advance()

    def forget(self, paths: Iterable[str]) -> None:
        """Remove objects the store no longer has: their rows, then their files."""
        paths = list(paths)
        if not paths:
            return
        with self._db:
            self._db.executemany("DELETE FROM objects WHERE path = ?", [(p,) for p in paths])
            self._advance()
        for path in paths:
            target = self.file(path)
            target.unlink(missing_ok=True)
            for parent in target.parents:  # empty folders go with their last file
                if parent == self.files or any(parent.iterdir()):
                    break
                parent.rmdir()

    # ------------------------------------------------------------------ reading
    def entries(self) -> Iterator[Entry]:
        """Every object that parsed into a document, in path order."""
        rows = self._db.execute(
            "SELECT path, version, url, document FROM objects WHERE status = ? ORDER BY path",
            (INDEXED,),
        )
        for path, version, url, document in rows:
            values = json.loads(document)
            yield Entry(path, version, url, Document(id=path, **values))

    def rejected(self) -> list[tuple[str, str]]:
        """(path, reason) of every object that was fetched but could not be parsed."""
        rows = self._db.execute(
            "SELECT path, reason FROM objects WHERE status = ? ORDER BY path", (REJECTED,)
        )
        return list(rows)

    def url_of(self, path: str) -> str | None:
        row = self._db.execute("SELECT url FROM objects WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None


def _dump(document: Document | None) -> str | None:
    if document is None:
        return None
    return json.dumps(
        {"title": document.title, "text": document.text, "metadata": document.metadata},
        ensure_ascii=False,
    )
