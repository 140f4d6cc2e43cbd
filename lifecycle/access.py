"""The access policy in force, and index versions that enforce it (nothing re-embedded).

- ``current_policy`` reads the policy file (``Settings.access_policy``). A file that parses
  becomes the **last good** policy (kept under ``Settings.access_dir``); a malformed one is
  refused with its message and the last good one stays in force; a file that disappears also
  leaves the last good one in force. With no file and no last good policy everyone reads
  everything (``OPEN``: a folder nobody wrote a policy for, as before access control); with a
  malformed first file nobody reads anything (``CLOSED``). Never fails open.
- ``enforce`` gives an index that carries the policy's readers (``SearchIndex.with_access``);
  every service that searches or shows a document goes through it, so even a version built
  before the policy changed (``docsearch build``) answers under the policy in force.
- ``with_policy`` is the pipeline's step: the version it was handed, or a new version beside it
  that records the policy hash. ``apply_policy`` does the same for the version that serves and
  promotes the new version through the registry's gate (or makes it CURRENT locally).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from search.access import CLOSED, OPEN, Policy, PolicyError, load_policy
from search.index import IndexStore, SearchIndex, read_manifest
from search.settings import Settings

logger = logging.getLogger(__name__)

LAST_GOOD = "last-good-policy.yaml"
POLICY_HASH_TAG = "docsearch.access.policy_hash"
DERIVED_FROM_TAG = "docsearch.access.derived_from"


@dataclass(frozen=True)
class PolicyStatus:
    """The policy in force, the file it should come from, and why they differ (if they do)."""

    policy: Policy
    file: Path
    error: str = ""  # the refusal of a malformed or missing file; empty when the file is in force

    @property
    def hash(self) -> str:
        return self.policy.hash


_lock = threading.Lock()
_parsed: dict[tuple, PolicyStatus] = {}  # (file state, last good state) -> status: parse once


def current_policy(settings: Settings) -> PolicyStatus:
    """The policy in force now (see the module docstring for the fallbacks)."""
    path = settings.access_policy
    last_good = settings.access_dir / LAST_GOOD
    key = (str(path), _signature(path), _signature(last_good))
    with _lock:
        if key in _parsed:
            return _parsed[key]
    status = _read(path, last_good)
    with _lock:
        _parsed[key] = status
    return status


def _signature(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def _read(path: Path, last_good: Path) -> PolicyStatus:
    if not path.exists():
        if not last_good.is_file():
            return PolicyStatus(OPEN, path)
        message = (
            f"{path} is gone; the last good policy stays in force. To let everyone read "
            "every document, write `default: [everyone]` there"
        )
        logger.error(message)
        return PolicyStatus(load_policy(last_good), path, message)
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        if last_good.is_file():
            kept = load_policy(last_good)
            message = f"{exc}. The last good policy ({kept.hash}) stays in force until it is fixed"
        else:
            kept, message = CLOSED, f"{exc}. No document can be read until it is fixed"
        logger.error(message)
        return PolicyStatus(kept, path, message)
    _keep(path.read_bytes(), last_good)
    return PolicyStatus(policy, path)


def _keep(text: bytes, last_good: Path) -> None:
    """Save the policy as the last good one (atomically: a crash leaves the previous one)."""
    if last_good.is_file() and last_good.read_bytes() == text:
        return
    last_good.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=last_good.parent, prefix=".policy-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(text)
    os.replace(tmp, last_good)


def enforced_hash(index: SearchIndex) -> str | None:
    """The hash of the policy an index carries (None: it carries none and restricts nothing)."""
    return index.access.policy_hash if index.access is not None else None


def recorded_hash(version_path: str | Path) -> str | None:
    """The policy hash an index version's manifest records (None: none)."""
    return (read_manifest(version_path).get("access") or {}).get("policy_hash")


def enforce(index: SearchIndex, policy: Policy) -> SearchIndex:
    """``index`` carrying ``policy``'s readers: itself when it already does."""
    if enforced_hash(index) == policy.hash:
        return index
    return index.with_access(policy.readers_of(index.documents), policy.hash)


@dataclass(frozen=True)
class PolicyVersion:
    """The version that enforces the policy in force, and whether it was made just now."""

    version: str
    made: bool
    status: PolicyStatus


def _derive(store: IndexStore, index: SearchIndex, status: PolicyStatus) -> str:
    made = store.write(enforce(index, status.policy), activate=False)
    logger.info("policy %s applied as index version %s", status.hash, made)
    return made


def with_policy(settings: Settings, store: IndexStore, version: str) -> PolicyVersion:
    """``version`` when it records the policy in force, else a new version beside it that does
    (same chunks, vectors, BM25 and memory; not made current: the caller's gate decides).
    The pipeline's step: ``index_job`` calls it on the version it built or reused."""
    status = current_policy(settings)
    if recorded_hash(store.path(version)) == status.hash:
        return PolicyVersion(version, False, status)
    return PolicyVersion(_derive(store, store.load(version), status), True, status)


@dataclass(frozen=True)
class AppliedPolicy:
    """What ``apply_policy`` did: the policy, the version that served, the one that enforces
    the policy now, and how it came to serve."""

    status: PolicyStatus
    served: str | None
    version: str | None
    outcome: str


def apply_policy(settings: Settings) -> AppliedPolicy:
    """Make the serving version enforce the policy in force: a new version (nothing
    re-embedded) promoted through the registry's gate when the registry serves, else made
    CURRENT in the local store. Nothing happens when the serving version enforces it already."""
    from lifecycle.serving import FROM_REGISTRY, LoadedIndexes, resolve_serving

    status = current_policy(settings)
    served = resolve_serving(settings)
    if served is None:
        return AppliedPolicy(status, None, None, "no index serves yet; build one first")
    if recorded_hash(served.path) == status.hash:
        return AppliedPolicy(status, served.version, served.version, "already enforced")
    store = IndexStore(settings.index_root())
    made = _derive(store, LoadedIndexes(keep=1).index(served), status)
    if served.source == FROM_REGISTRY:
        outcome = _promote(settings, store, served.version, made, status)
    else:
        store.activate(made)
        outcome = "made CURRENT in the local store (no registry champion)"
    return AppliedPolicy(status, served.version, made, outcome)


def _promote(
    settings: Settings, store: IndexStore, parent: str, made: str, status: PolicyStatus
) -> str:
    """Register ``made`` with its parent's evaluations (its ranking is the parent's: only who
    may read changed) and let the gate settle it."""
    from lifecycle.registry import Registry

    registry = Registry.from_settings(settings)
    parent_run = registry.find_build(parent)
    if parent_run is None:
        store.activate(made)
        return "made CURRENT in the local store (the serving version has no MLflow run)"
    path = store.path(made)
    run_id = registry.log_build(
        path,
        read_manifest(path),
        registry.evaluations(parent_run),
        registry.run_metrics(parent_run),
        tags={POLICY_HASH_TAG: status.hash, DERIVED_FROM_TAG: parent},
        run_name=f"index {made} (policy {status.hash} on {parent})",
    )
    number = str(registry.register(run_id, path).version)
    settled = registry.settle(number)
    return (
        f"registered as {registry.model_name} v{number}; gate: {settled.outcome} ({settled.reason})"
    )


def index_summary(served, index: SearchIndex, status: PolicyStatus, reader) -> dict:
    """What serves, how big it is, and which access policy it enforces; why the policy file
    is not in force (it names files and lines) only for admins."""
    manifest = read_manifest(served.path)
    return {
        "index_version": served.version,
        "source": served.source,
        "label": served.label,
        "documents": len(index.documents),
        "chunks": len(index.chunks),
        "model": manifest["model"]["id"],
        "policy_hash": enforced_hash(index) or status.hash,
        "version_policy_hash": (manifest.get("access") or {}).get("policy_hash"),
        "policy_error": status.error
        if reader.admin
        else ("" if not status.error else "see an admin"),
    }
