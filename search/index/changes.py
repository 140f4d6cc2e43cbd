"""What changed since the newest index version: documents by content hash, folders by stat."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from search.index.disk import read_documents
from search.index.store import IndexStore
from search.ingest import Document


@dataclass(frozen=True)
class DocumentChanges:
    """Document ids by what happened to them since the previous index version."""

    new: tuple[str, ...]
    modified: tuple[str, ...]
    deleted: tuple[str, ...]
    unchanged: tuple[str, ...]
    previous_version: str | None

    @property
    def changed(self) -> bool:
        return bool(self.new or self.modified or self.deleted)


def indexed_hashes(index_folder: str | Path) -> dict[str, str]:
    """``{doc_id: content_hash}`` of a saved index, read from its documents file alone."""
    return {
        doc_id: info["metadata"].get("content_hash", "")
        for doc_id, info in read_documents(index_folder).items()
    }


def diff_documents(documents: Sequence[Document], store: IndexStore) -> DocumentChanges:
    """Compare parsed documents with the newest version in ``store`` by content hash."""
    previous = store.latest()
    before = indexed_hashes(store.path(previous)) if previous else {}
    now = {d.id: d.metadata.get("content_hash", "") for d in documents}
    return DocumentChanges(
        new=tuple(sorted(set(now) - set(before))),
        modified=tuple(sorted(d for d in now if d in before and before[d] != now[d])),
        deleted=tuple(sorted(set(before) - set(now))),
        unchanged=tuple(sorted(d for d in now if d in before and before[d] == now[d])),
        previous_version=previous,
    )


def folder_bytes(folder: str | Path) -> int:
    """The size of every file under ``folder``, summed."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def folder_signature(root: str | Path) -> str:
    """A cheap fingerprint of a folder (paths, sizes, modification times of visible files):
    it changes when a file is added, edited or removed, without reading any file."""
    digest = hashlib.sha256()
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(f for f in filenames if not f.startswith(".")):
            stat = Path(dirpath, name).stat()
            rel = Path(dirpath, name).relative_to(root).as_posix()
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
