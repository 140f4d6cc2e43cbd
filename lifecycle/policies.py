"""The policy of a set of documents: which file it is read from, the one in force, and what an
index version records of it, so that the policy follows the documents it protects.

- A documents folder's policy file is its own ``access.yaml`` (``search.access.folder``), or
  the file ``DOCSEARCH_ACCESS`` names; a folder with a policy file of its own and
  ``DOCSEARCH_ACCESS`` naming another file has two policies, and a folder's own policy is
  never left out: builds are refused, serving is closed, with one line naming both files.
- ``build_policy(settings, docs)`` is the policy a build of folder ``docs`` enforces and
  records (``PolicyStatus.record``: the file, the folder, the policy itself), whichever
  command or asset builds it.
- ``version_policy(settings, index)`` is the policy in force for a version: read again from
  the file its documents' folder recorded (an edit there applies at once, nothing rebuilt);
  when that file is malformed or gone, the newer of this home's last good copy of it and the
  policy recorded with the version; a version fetched to a machine without its documents
  folder serves under the policy it records. A version that recorded a policy never serves
  without one. A version from before policies travelled with it answers under
  ``current_policy(settings)``, the configured folder's.
- Each file that parses becomes the **last good** policy of that file (kept under
  ``Settings.access_dir``, one per file): a malformed file is refused with its message and the
  last good one stays in force. With no file, no last good one and nothing recorded, everyone
  reads everything (``OPEN``); with a malformed first file, nobody (``CLOSED``). Never open.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from search.access import (
    CLOSED,
    OPEN,
    Policy,
    PolicyError,
    load_policy,
    names_are_case_sensitive,
    policy_file_of,
    policy_from_dict,
)
from search.index import SearchIndex
from search.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PolicyStatus:
    """The policy in force, the file it should come from, the documents folder it protects,
    and why the file's is not in force (if it is not)."""

    policy: Policy
    file: Path
    error: str = ""  # the refusal of a malformed or missing file; empty when the file is in force
    docs: Path | None = None

    @property
    def hash(self) -> str:
        return self.policy.hash

    def record(self) -> dict:
        """What an index version records of its policy (``AccessTable.source``)."""
        return {
            "file": str(self.file),
            "docs": str(self.docs or ""),
            "policy": self.policy.to_dict(),
        }

    def recorded_by(self, access: dict | None) -> bool:
        """Whether a manifest's ``access`` entry records this very policy, file and folder."""
        access = access or {}
        return (
            access.get("policy_hash") == self.hash
            and access.get("file") == str(self.file)
            and access.get("docs", "") == str(self.docs or "")
        )


def policy_file(settings: Settings, docs: Path) -> tuple[Path, str]:
    """(the policy file of folder ``docs``, why it is refused: two policies for one folder)."""
    own = policy_file_of(docs)
    if settings.access is None:
        return own, ""
    if own.exists() and not _same_file(own, settings.access):
        return settings.access, (
            f"{own} and DOCSEARCH_ACCESS={settings.access} are two access policies for {docs}; "
            f"a folder's own policy is never left out: remove one, or point DOCSEARCH_ACCESS "
            f"at {own}"
        )
    return settings.access, ""


def build_policy(settings: Settings, docs: str | os.PathLike) -> PolicyStatus:
    """The policy a build of folder ``docs`` enforces and records; PolicyError (one line naming
    both files) when the folder has two."""
    docs = Path(os.path.realpath(docs))
    file, conflict = policy_file(settings, docs)
    if conflict:
        raise PolicyError(conflict)
    return _in_force(settings, file, docs)


def current_policy(settings: Settings, docs: str | os.PathLike | None = None) -> PolicyStatus:
    """The policy in force for folder ``docs`` (default: the configured documents folder)."""
    docs = Path(os.path.realpath(docs or settings.docs))
    file, conflict = policy_file(settings, docs)
    if conflict:
        logger.error(conflict)
        return PolicyStatus(CLOSED, file, f"{conflict}. No document can be read until then", docs)
    return _in_force(settings, file, docs)


def version_policy(settings: Settings, index: SearchIndex) -> PolicyStatus:
    """The policy in force for an index version: that of the documents it was built from."""
    source = index.access.source if index.access is not None else None
    if not source or not source.get("file"):
        return current_policy(settings)  # built before policies travelled with their documents
    file = Path(source["file"])
    docs = Path(source["docs"]) if source.get("docs") else None
    try:
        recorded = policy_from_dict(source["policy"], f"{file} (as the index version records it)")
    except (PolicyError, KeyError, TypeError) as exc:
        message = f"the index version's record of {file} cannot be read ({exc}); rebuild it"
        return PolicyStatus(CLOSED, file, message, docs)
    return _in_force(settings, file, docs, recorded, _created(index))


def _created(index: SearchIndex) -> float:
    try:
        return datetime.fromisoformat(index.manifest["created"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return 0.0


_lock = threading.Lock()
_parsed: dict[tuple, PolicyStatus] = {}  # (file state, last good state, record) -> status


def _in_force(
    settings: Settings,
    file: Path,
    docs: Path | None,
    recorded: Policy | None = None,
    recorded_at: float = 0.0,
) -> PolicyStatus:
    last_good = last_good_path(settings, file)
    key = (
        str(file),
        _signature(file),
        _signature(last_good),
        str(docs),
        recorded.hash if recorded is not None else None,
        recorded_at,
    )
    with _lock:
        if key in _parsed:
            return _parsed[key]
    status = _read(file, docs, last_good, recorded, recorded_at)
    with _lock:
        _parsed[key] = status
    return status


def last_good_path(settings: Settings, file: Path) -> Path:
    """Where this home keeps the last good copy of policy file ``file`` (one per file: the
    last good policy of one folder must never stand in for another's)."""
    name = hashlib.sha256(os.path.abspath(file).encode()).hexdigest()[:16]
    return settings.access_dir / f"last-good-{name}.yaml"


def _signature(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def _resolved(policy: Policy, docs: Path | None) -> Policy:
    """The policy with its case rule decided by the documents folder's file system."""
    return policy.with_case(names_are_case_sensitive(docs) if docs and docs.is_dir() else True)


def _read(
    file: Path, docs: Path | None, last_good: Path, recorded: Policy | None, recorded_at: float
) -> PolicyStatus:
    if not file.exists():
        kept = _fallback(docs, last_good, recorded, recorded_at)
        if kept is None or kept.hash == OPEN.hash:
            return PolicyStatus(OPEN, file, "", docs)
        if recorded is not None and (docs is None or not docs.is_dir()):
            # a version served away from its documents folder: the policy it records
            return PolicyStatus(kept, file, "", docs)
        message = (
            f"{file} is gone; the last good policy stays in force. To let everyone read "
            "every document, write `default: [everyone]` there"
        )
        logger.error(message)
        return PolicyStatus(kept, file, message, docs)
    try:
        policy = _resolved(load_policy(file), docs)
    except PolicyError as exc:
        kept = _fallback(docs, last_good, recorded, recorded_at)
        if kept is not None:
            message = f"{exc}. The last good policy ({kept.hash}) stays in force until it is fixed"
        else:
            kept, message = CLOSED, f"{exc}. No document can be read until it is fixed"
        logger.error(message)
        return PolicyStatus(kept, file, message, docs)
    _keep(file.read_bytes(), last_good)
    return PolicyStatus(policy, file, "", docs)


def _fallback(
    docs: Path | None, last_good: Path, recorded: Policy | None, recorded_at: float
) -> Policy | None:
    """The newer of this home's last good copy of the file and the version's record."""
    try:
        good = _resolved(load_policy(last_good), docs) if last_good.is_file() else None
        saved_at = last_good.stat().st_mtime if good is not None else 0.0
    except (PolicyError, OSError):
        good, saved_at = None, 0.0
    if good is None or (recorded is not None and recorded_at > saved_at):
        return recorded
    return good


def _keep(text: bytes, last_good: Path) -> None:
    """Save the policy as the last good one (atomically: a crash leaves the previous one)."""
    if last_good.is_file() and last_good.read_bytes() == text:
        return
    last_good.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=last_good.parent, prefix=".policy-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(text)
    os.replace(tmp, last_good)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
