"""Index versions on disk: each build is a new folder, switched to atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from search.encoding import Encoder
from search.index.search_index import IndexLoadError, SearchIndex, read_manifest

CURRENT = "CURRENT"


class IndexStore:
    """``root/versions/<id>/`` holds each index version; ``root/CURRENT`` names the one in use.

    A version is written under a temporary name and renamed into place, and CURRENT is replaced
    with ``os.replace``: a crash or a failed build never leaves a half-written index in use.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"

    def write(self, index: SearchIndex, activate: bool = True) -> str:
        """Save ``index`` as a new version; make it current unless ``activate`` is False."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=self.versions_dir))
        try:
            index.save(staging / "index")
            os.rename(staging / "index", self.versions_dir / version)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if activate:
            self.activate(version)
        return version

    def activate(self, version: str) -> None:
        read_manifest(self.path(version))  # refuse to point at something that is not an index
        tmp = self.root / f".{CURRENT}.tmp"
        tmp.write_text(version + "\n")
        os.replace(tmp, self.root / CURRENT)

    def current(self) -> str | None:
        pointer = self.root / CURRENT
        return pointer.read_text().strip() if pointer.is_file() else None

    def versions(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(
            p.name for p in self.versions_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    def path(self, version: str) -> Path:
        return self.versions_dir / version

    def load(self, version: str | None = None, encoder: Encoder | None = None) -> SearchIndex:
        version = version or self.current()
        if version is None:
            raise IndexLoadError(
                f"No index has been built in {self.root}. Run `docsearch build` first."
            )
        return SearchIndex.load(self.path(version), encoder)

    def remove(self, version: str) -> None:
        if version == self.current():
            raise ValueError(f"Version {version} is in use; activate another one first.")
        shutil.rmtree(self.path(version))
