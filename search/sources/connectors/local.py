"""``file:///path``: a folder on this machine, read the way the documents folder is read.

The listing is the documents folder's own walk (``search.ingest.walk``), so the same
boundary holds: links out of the folder, FIFOs and devices are listed as failures and never
opened, and a file is read with ``read_bounded`` (no link followed, never more than the size
limit). Its version is its size and modification time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from search.ingest import ParseLimits
from search.ingest.files import read_bounded
from search.ingest.model import DocumentError
from search.ingest.walk import walk
from search.sources.model import Known, ObjectError, RemoteObject, SourceError, SourceUnavailable

OPTIONS: dict[str, str] = {}


def folder_of(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise SourceError(
            f"{url}: a file:// URL names a folder on this machine: file:///path/to/folder"
        )
    path = Path(unquote(parts.path))
    if not path.is_absolute():
        raise SourceError(f"{url}: write the folder's absolute path, file:///path/to/folder")
    return path


class LocalConnector:
    def __init__(self, url: str, limits: ParseLimits) -> None:
        self.root = folder_of(url)
        self.limits = limits
        self._real: dict[str, tuple[str, tuple[int, int]]] = {}  # path -> (real path, dev/ino)

    def objects(self, known: Mapping[str, Known]) -> Iterator[RemoteObject]:
        if not self.root.is_dir():
            raise SourceUnavailable(f"{self.root} is not a folder (moved, unmounted?)")
        for entry in walk(self.root):
            url = (self.root / entry.rel).as_uri()
            if entry.reason:
                yield RemoteObject(entry.rel, "", url=url, problem=entry.reason)
                continue
            info = entry.info
            self._real[entry.rel] = (entry.path, (info.st_dev, info.st_ino))
            yield RemoteObject(
                entry.rel,
                f"{info.st_size}-{info.st_mtime_ns}",
                url=url,
                size=info.st_size,
                modified=info.st_mtime,
            )

    def fetch(self, obj: RemoteObject) -> bytes:
        real, expect = self._real.get(obj.path, (str(self.root / obj.path), None))
        try:
            return read_bounded(real, self.limits, expect)[0]
        except DocumentError as exc:
            raise ObjectError(str(exc)) from None

    def close(self) -> None:
        pass
