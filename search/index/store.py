"""Index versions on disk: each build is a new folder, switched to atomically, and cleaned."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from search.config import IndexConfig
from search.diskspace import space_for
from search.encoding import Encoder
from search.index.disk import BLOCK, estimated_size
from search.index.manifest import (
    IndexLoadError,
    read_manifest,
    same_build,
    verify_files,
)
from search.index.manifest import (
    manifest_sha256 as manifest_sha256_of,
)
from search.index.search_index import SearchIndex

logger = logging.getLogger(__name__)

VERSIONS = "versions"  # sub-folder of the store root holding one folder per version
CURRENT = "CURRENT"  # file in the store root: "<version> <sha256 of its manifest>"
ACTIVATIONS = "ACTIVATIONS"  # file in the store root: the same, one line per activation
WRITER_LOCK = ".writer.lock"  # in a staging folder: held (flock) while its writer lives
KEEP_ACTIVATIONS = 200  # activation lines kept (the oldest are dropped)
_VERSION_FORMAT = "%Y%m%dT%H%M%S%fZ"
_STAGING = re.compile(r"^\.[^-]+-(\d+)-")  # ".<version>-<writer pid>-<random>"
_UNLOCKED_STAGING_SECONDS = 3600  # a staging folder without lock or pid: abandoned after this


@dataclass(frozen=True)
class Retention:
    """What cleaning keeps: the newest ``keep`` versions, and versions never activated for
    ``unactivated_hours``. The current version, the one activated before it and ``protected``
    ones (what registry aliases point at) are never removed."""

    keep: int = 5
    unactivated_hours: float = 24.0


@dataclass
class Cleaned:
    """What one cleaning removed (folder names)."""

    staging: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)


class Pick(NamedTuple):
    """The version that serves and, when it is not CURRENT, why."""

    version: str | None
    note: str = ""


class IndexStore:
    """``root/versions/<id>/`` holds each index version; ``root/CURRENT`` names the one in use.

    A version is written under a staging name and renamed into place, and CURRENT is replaced
    with ``os.replace``: a crash or a failed build never leaves a half-written index in use.
    CURRENT and ACTIVATIONS record the sha256 of each activated version's manifest, which is
    checked whenever the version is picked to serve: an edited manifest is refused and the
    version activated before it serves. Version ids are UTC timestamps, so they sort by time.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / VERSIONS

    @staticmethod
    def root_of(version_path: str | Path) -> Path:
        """The store root a version folder (``<root>/versions/<id>``) belongs to."""
        return Path(version_path).resolve().parent.parent

    def write(self, index: SearchIndex, activate: bool = True) -> str:
        """Save ``index`` as a new version; make it current unless ``activate`` is False.
        Without room for it (``estimated_size``), DiskFull before a byte is written; a disk
        that fills while it is written gives DiskFull too, the staging folder removed."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        version = datetime.now(UTC).strftime(_VERSION_FORMAT)
        with space_for(self.versions_dir, "a new index version", estimated_size(index)):
            staging = Path(
                tempfile.mkdtemp(prefix=f".{version}-{os.getpid()}-", dir=self.versions_dir)
            )
            try:
                with _held(staging / WRITER_LOCK):
                    index.save(staging / "index")
                    os.rename(staging / "index", self.versions_dir / version)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        if activate:
            self.activate(version)
        return version

    # ------------------------------------------------------------- activation
    def activate(self, version: str, manifest_sha256: str | None = None) -> None:
        """Make ``version`` current, recording its manifest's sha256; refused (IndexLoadError)
        unless its manifest is sound and, given ``manifest_sha256`` (a registry's record), is
        that very manifest."""
        read_manifest(self.path(version), manifest_sha256)
        line = f"{version} {manifest_sha256 or manifest_sha256_of(self.path(version))}\n"
        lines = self._activations()[-(KEEP_ACTIVATIONS - 1) :] + [line.split()]
        self._replace(ACTIVATIONS, "".join(f"{v} {h}\n" for v, h in lines))
        self._replace(CURRENT, line)

    def current(self) -> str | None:
        pointer = self.root / CURRENT
        if not pointer.is_file():
            return None
        fields = pointer.read_text(errors="replace").split()
        return fields[0] if fields else None

    def recorded_sha256(self, version: str) -> str | None:
        """The manifest sha256 recorded when ``version`` was last activated (None: never, or
        activated before hashes were recorded)."""
        pointer = self.root / CURRENT
        fields = pointer.read_text(errors="replace").split() if pointer.is_file() else []
        if len(fields) >= 2 and fields[0] == version:
            return fields[1]
        found = [h for v, h in self._activations() if v == version]
        return found[-1] if found else None

    def activated(self) -> list[str]:
        """Versions ever activated (as far as ACTIVATIONS remembers), most recent last."""
        seen: dict[str, None] = {}
        for version, _ in self._activations():
            seen.pop(version, None)
            seen[version] = None
        return list(seen)

    def check(self, version: str) -> dict:
        """``version``'s manifest, validated and checked against the sha256 recorded when it was
        activated; IndexLoadError naming the file and the fix otherwise."""
        return read_manifest(self.path(version), self.recorded_sha256(version))

    def pick(self) -> Pick:
        """The version to serve: CURRENT when its manifest and files check, else the most
        recently activated version before it that checks, with a note saying why; with no
        CURRENT at all, the newest version."""
        current = self.current()
        if current is None:
            return Pick(self.latest())
        try:
            _verified_once(self.path(current), self.check(current))
            return Pick(current)
        except IndexLoadError as exc:
            refused = str(exc)
        for version in reversed(self.activated()):
            if version == current or not self.path(version).is_dir():
                continue
            try:
                verify_files(self.path(version), self.check(version))
            except IndexLoadError:
                continue
            logger.warning("version %s refused (%s); serving %s", current, refused, version)
            return Pick(version, f"version {current} refused: {refused}")
        raise IndexLoadError(f"{refused} (and no earlier version of {self.root} checks)")

    # --------------------------------------------------------------- listing
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
                manifest = self.check(version)
                if same_build(manifest, corpus, config, encoder):
                    verify_files(folder, manifest)
                    return version
            except (IndexLoadError, KeyError):  # KeyError: a manifest lacking a field
                continue
        return None

    def load(self, version: str | None = None, encoder: Encoder | None = None) -> SearchIndex:
        """A version (default: the one ``pick`` serves), its manifest checked first."""
        version = version or self.pick().version
        if version is None:
            raise IndexLoadError(
                f"No index has been built in {self.root}. Run `docsearch build` first."
            )
        self.check(version)
        return SearchIndex.load(self.path(version), encoder)

    def remove(self, version: str) -> None:
        if version == self.current():
            raise ValueError(f"Version {version} is in use; activate another one first.")
        shutil.rmtree(self.path(version))

    # -------------------------------------------------------------- cleaning
    def clean(
        self, retention: Retention = Retention(), protected: Iterable[str] | None = ()
    ) -> Cleaned:
        """Remove staging folders whose writer is gone, then versions beyond
        ``retention.keep`` and never-activated ones older than ``retention.unactivated_hours``;
        never the current version, the one activated before it, nor ``protected`` ones. With
        ``protected`` None (what a registry points at is unknown) only staging is cleaned."""
        cleaned = Cleaned(staging=self._clean_staging())
        if protected is not None:
            cleaned.versions = self._clean_versions(retention, set(protected))
        if cleaned.staging or cleaned.versions:
            logger.info("cleaned %s: %s", self.root, cleaned)
        return cleaned

    def _clean_staging(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        removed = []
        for folder in sorted(self.versions_dir.iterdir()):
            if folder.name.startswith(".") and folder.is_dir() and not _being_written(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed

    def _clean_versions(self, retention: Retention, protected: set[str]) -> list[str]:
        versions = self.versions()
        activated = self.activated()
        current = self.current()
        kept = set(protected) | {current} | set(activated[-2:])  # current and the one before
        newest = set(versions[-retention.keep :]) if retention.keep > 0 else set()
        limit = time.time() - retention.unactivated_hours * 3600
        removed = []
        for version in versions:
            if version in kept:
                continue
            stale = version not in activated and _created(self.path(version)) < limit
            if version not in newest or stale:
                shutil.rmtree(self.path(version), ignore_errors=True)
                removed.append(version)
        return removed

    # --------------------------------------------------------------- helpers
    def _activations(self) -> list[list[str]]:
        path = self.root / ACTIVATIONS
        if not path.is_file():
            return []
        rows = [line.split() for line in path.read_text(errors="replace").splitlines()]
        return [row[:2] for row in rows if len(row) >= 2]

    def _replace(self, name: str, text: str) -> None:
        """Replace the file ``name`` with ``text`` at once (written aside, then renamed; the
        aside copy removed when the write fails, a full disk included)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{name}.{os.getpid()}.tmp"
        with space_for(self.root, f"its {name} file", len(text.encode()) + BLOCK):
            try:
                tmp.write_text(text)
                os.replace(tmp, self.root / name)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise


_VERIFIED: set[tuple[str, str]] = set()  # (folder, manifest sha256) whose files checked


def _verified_once(folder: Path, manifest: dict) -> None:
    """``verify_files``, once per process per folder and manifest: a serving process asks
    which version serves every few seconds, and hashing a large index each time would not do."""
    key = (str(folder.resolve()), manifest_sha256_of(folder))
    if key not in _VERIFIED:
        verify_files(folder, manifest)
        _VERIFIED.add(key)


@contextlib.contextmanager
def _held(lock: Path) -> Iterator[None]:
    """An exclusive flock on ``lock`` while the block runs: the kernel drops it when the
    process dies, however it dies, so cleaning can tell an abandoned staging folder."""
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _being_written(staging: Path) -> bool:
    """Whether a live writer still holds ``staging`` (its lock, else its pid, else its age)."""
    try:
        fd = os.open(staging / WRITER_LOCK, os.O_RDWR)
    except FileNotFoundError:
        return _writer_alive(staging)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _writer_alive(staging: Path) -> bool:
    """Before its lock exists a staging folder belongs to the pid in its name, if alive."""
    match = _STAGING.match(staging.name)
    if match is None:
        return time.time() - staging.stat().st_mtime < _UNLOCKED_STAGING_SECONDS
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return False
    except OverflowError:
        return False
    except PermissionError:
        return True
    return True


def version_created(version: str) -> datetime | None:
    """When a version was written: its id is its UTC creation time (None for another name)."""
    try:
        return datetime.strptime(version, _VERSION_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _created(folder: Path) -> float:
    """When a version was written (``version_created``, else the folder's mtime)."""
    created = version_created(folder.name)
    return created.timestamp() if created else folder.stat().st_mtime
