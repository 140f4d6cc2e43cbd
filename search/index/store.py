"""Index versions on disk: each build is a new folder, switched to atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from search.config import IndexConfig
from search.encoding import Encoder
from search.index.manifest import IndexLoadError, read_manifest, same_build, verify_files
from search.index.search_index import SearchIndex

VERSIONS = "versions"  # sub-folder of the store root holding one folder per version
CURRENT = "CURRENT"  # file in the store root naming the version in use


class IndexStore:
    """``root/versions/<id>/`` holds each index version; ``root/CURRENT`` names the one in use.

    A version is written under a temporary name and renamed into place, and CURRENT is replaced
    with ``os.replace``: a crash or a failed build never leaves a half-written index in use.
    Version ids are UTC timestamps, so they sort by time.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / VERSIONS

    @staticmethod
    def root_of(version_path: str | Path) -> Path:
        """The store root a version folder (``<root>/versions/<id>``) belongs to."""
        return Path(version_path).resolve().parent.parent

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
        """Every version id, oldest first."""
        if not self.versions_dir.is_dir():
            return []
        return sorted(
            p.name for p in self.versions_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    def latest(self) -> str | None:
        """The newest version written, if any."""
        versions = self.versions()
        return versions[-1] if versions else None

    def path(self, version: str) -> Path:
        return self.versions_dir / version

    def find_reusable(self, corpus: str, config: IndexConfig, encoder: Encoder) -> str | None:
        """The newest version built from corpus fingerprint ``corpus`` with ``config``'s build
        fields and with ``encoder``: loading it gives what a new build would, so nothing needs
        building. Versions that cannot be used (manifest unreadable, a file missing or corrupt)
        are skipped; None when no version qualifies."""
        for version in reversed(self.versions()):
            folder = self.path(version)
            try:
                manifest = read_manifest(folder)
                if same_build(manifest, corpus, config, encoder):
                    verify_files(folder, manifest)
                    return version
            except (IndexLoadError, KeyError):  # KeyError: a manifest lacking a field
                continue
        return None

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
