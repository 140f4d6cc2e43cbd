"""A document's original file, handed out only as it was indexed and checked.

Reading a file records its sha256 (``metadata["content_hash"]``). A download opens the file
again without following any link on its path (each folder below the documents folder opened
with ``O_NOFOLLOW`` relative to the one above, so a file or folder swapped for a link after the
build leads nowhere), copies it into a spooled temporary file while hashing it, and hands out
the copy only when its hash is the recorded one. A file changed or swapped since it was indexed
is ``Changed`` (409 in the API: re-index it), never its new content; one that is gone is
``NotFound``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lifecycle.readers import NotFound
from search.index import SearchIndex

IN_MEMORY_BYTES = 8 * 1024 * 1024  # a larger copy spills to a temporary file
BLOCK = 1024 * 1024
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


_SWAPPED = {
    errno.ELOOP: "a link stands at its path",
    errno.EMLINK: "a link stands at its path",  # O_NOFOLLOW's answer on some systems
    errno.ENOTDIR: "a link or a file stands where one of its folders was",
}


class Changed(NotFound):
    """The file is not the one that was indexed (its bytes differ, or a link or something
    other than a file stands at its path now): it is served again once re-indexed."""


def documents_root(index: SearchIndex, configured: Path) -> Path:
    """The folder a version's documents were read from (its access record says), else the
    ``configured`` documents folder (a version fetched to another machine, or an older one:
    either way a file is handed out only if it is the one indexed)."""
    source = index.access.source if index.access is not None else None
    recorded = Path(source["docs"]) if source and source.get("docs") else None
    if recorded is not None and recorded.is_dir():
        return recorded
    return Path(os.path.realpath(configured))  # opened with O_NOFOLLOW: no link to start from


@dataclass(frozen=True)
class OriginalFile:
    """A document's file under the documents folder, and what it held when it was indexed."""

    doc_id: str
    root: Path
    rel: str
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return self.rel.rsplit("/", 1)[-1]

    def open(self) -> BinaryIO:
        """A copy of the file as it was indexed (positioned at its start); Changed or NotFound."""
        fd = self._open()
        copy = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)
        digest, copied = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "rb") as handle:
                # one byte past the recorded size is enough to know it is not the same file
                while copied <= self.size and (block := handle.read(BLOCK)):
                    digest.update(block)
                    copy.write(block)
                    copied += len(block)
        except BaseException:
            copy.close()
            raise
        if copied != self.size or digest.hexdigest() != self.sha256:
            copy.close()
            raise self._changed("its content is not what was indexed")
        copy.seek(0)
        return copy

    def read(self) -> bytes:
        with self.open() as copy:
            return copy.read()

    def _open(self) -> int:
        parts = self.rel.split("/")
        try:
            folder = os.open(self.root, _DIRECTORY)
        except OSError:
            raise self._gone() from None
        try:
            for part in parts[:-1]:
                below = os.open(part, _DIRECTORY, dir_fd=folder)
                os.close(folder)
                folder = below
            fd = os.open(parts[-1], _FILE, dir_fd=folder)
        except FileNotFoundError:
            raise self._gone() from None
        except OSError as exc:  # a link where a folder or the file was, or something else
            why = _SWAPPED.get(exc.errno, exc.strerror)
            raise self._changed(why) from None
        finally:
            os.close(folder)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise self._changed("it is not a regular file any more")
        return fd

    def _gone(self) -> NotFound:
        return NotFound(f"the original file of {self.doc_id!r} is not in the documents folder")

    def _changed(self, why: str) -> Changed:
        return Changed(
            f"the original file of {self.doc_id!r} changed since it was indexed ({why}); it is "
            "served again once the folder is re-indexed"
        )


def original_file(
    docs_root: Path, doc_id: str, metadata: dict, sources_root: Path | None = None
) -> OriginalFile | None:
    """The document's file as a checked download, when it came from a file of the folder (a
    corpus record has none) or, for a connected source's document, from its copy in the
    source's mirror under ``sources_root``, under a path that stays inside that folder."""
    source = metadata.get("source")
    if source:
        from search.sources.mirror import FILES

        if sources_root is None or not isinstance(source, str) or "/" in source:
            return None
        root, rel = Path(sources_root) / source / FILES, str(metadata.get("source_path", ""))
    else:
        root, rel = Path(docs_root), str(metadata.get("path", doc_id))
    parts = rel.split("/")
    digest, size = metadata.get("content_hash"), metadata.get("size")
    if not isinstance(digest, str) or not isinstance(size, int) or metadata.get("format") == "beir":
        return None
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in rel:
        return None
    return OriginalFile(doc_id, root, rel, digest, size)
