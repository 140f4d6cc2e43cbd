"""Index versions that enforce the policy of their documents (nothing re-embedded).

Which policy that is, and the one in force, is ``lifecycle.policies`` (re-exported here).

- ``enforce`` gives an index that carries a policy's readers (``SearchIndex.with_access``);
  every service that searches or shows a document goes through ``served_index`` (or
  ``enforce`` with ``version_policy``), so even a version built before the policy changed
  answers under the policy in force for its documents.
- ``with_policy`` is the pipeline's step: the version it was handed, or a new version beside it
  that records the policy of the folder being indexed. ``apply_policy`` does the same for the
  version that serves and promotes the new version through the registry's gate (or makes it
  CURRENT locally).
- ``index_summary`` says what serves and how much of it the caller may read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from lifecycle.policies import (
    PolicyStatus,
    build_policy,
    current_policy,
    last_good_path,
    version_policy,
)
from search.access import Policy
from search.index import IndexStore, SearchIndex, read_manifest
from search.retrieval import Filters
from search.settings import Settings

__all__ = [
    "PolicyStatus",
    "apply_policy",
    "build_policy",
    "current_policy",
    "enforce",
    "enforced_hash",
    "index_summary",
    "last_good_path",
    "recorded_hash",
    "served_index",
    "serving_record",
    "version_policy",
    "with_policy",
]

logger = logging.getLogger(__name__)

POLICY_HASH_TAG = "docsearch.access.policy_hash"
DERIVED_FROM_TAG = "docsearch.access.derived_from"


def enforced_hash(index: SearchIndex) -> str | None:
    """The hash of the policy an index carries (None: it carries none and restricts nothing)."""
    return index.access.policy_hash if index.access is not None else None


def recorded_access(version_path: str | Path) -> dict | None:
    """What an index version's manifest records of its policy (None: nothing)."""
    return read_manifest(version_path).get("access")


def recorded_hash(version_path: str | Path) -> str | None:
    """The policy hash an index version's manifest records (None: none)."""
    return (recorded_access(version_path) or {}).get("policy_hash")


def enforce(index: SearchIndex, policy: Policy, source: dict | None = None) -> SearchIndex:
    """``index`` carrying ``policy``'s readers: itself when it already does. ``source`` is what
    the version will record of the policy (``PolicyStatus.record``); without it the index
    keeps the source it has (serving: an edit of the file changes who reads, not whose
    documents these are)."""
    kept = index.access.source if index.access is not None else None
    if enforced_hash(index) == policy.hash and (source is None or source == kept):
        return index
    return index.with_access(policy.readers_of(index.documents), policy.hash, source or kept)


def served_index(settings: Settings, loaded, served) -> tuple[SearchIndex, PolicyStatus]:
    """The served version from ``loaded`` (``LoadedIndexes``), carrying the policy in force for
    its documents, and that policy: what every interface answers from."""
    status = version_policy(settings, loaded.index(served))
    return loaded.index(served, status.policy), status


@dataclass(frozen=True)
class PolicyVersion:
    """The version that enforces the policy in force, and whether it was made just now."""

    version: str
    made: bool
    status: PolicyStatus


def _derive(store: IndexStore, index: SearchIndex, status: PolicyStatus) -> str:
    made = store.write(enforce(index, status.policy, status.record()), activate=False)
    logger.info("policy %s of %s applied as index version %s", status.hash, status.file, made)
    return made


def with_policy(
    settings: Settings, store: IndexStore, version: str, status: PolicyStatus | None = None
) -> PolicyVersion:
    """``version`` when it records ``status`` (default: the policy of the configured documents
    folder), else a new version beside it that does (same chunks, vectors, BM25 and memory;
    not made current: the caller's gate decides). The pipeline's step: ``index_job`` calls it
    on the version it built or reused, with the policy of the folder it indexed."""
    status = status or build_policy(settings, settings.docs)
    if status.recorded_by(recorded_access(store.path(version))):
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
    """Make the serving version record the policy in force for its documents: a new version
    (nothing re-embedded) promoted through the registry's gate when the registry serves, else
    made CURRENT in the local store. Nothing happens when the serving version records it."""
    from lifecycle.serving import FROM_REGISTRY, LoadedIndexes, resolve_serving

    served = resolve_serving(settings)
    if served is None:
        return AppliedPolicy(
            current_policy(settings), None, None, "no index serves yet; build one first"
        )
    index = LoadedIndexes(keep=1).index(served)
    status = version_policy(settings, index)
    if status.recorded_by(recorded_access(served.path)):
        return AppliedPolicy(status, served.version, served.version, "already enforced")
    store = IndexStore(settings.index_root())
    made = _derive(store, index, status)
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


def serving_record(settings: Settings) -> str:
    """One line on the policy the serving version records (its documents folder and policy
    file, from its manifest: nothing loaded), or "" when nothing serves."""
    from lifecycle.serving import resolve_serving

    served = resolve_serving(settings)
    if served is None:
        return ""
    access = recorded_access(served.path) or {}
    if not access.get("file"):
        return (
            f"serving {served.version}: it records no documents folder, so the policy of "
            f"{settings.docs} is in force for it"
        )
    return (
        f"serving {served.version}: built from {access.get('docs') or '?'}, it follows "
        f"{access['file']} (recorded hash {access.get('policy_hash')})"
    )


def index_summary(served, index: SearchIndex, status: PolicyStatus, reader) -> dict:
    """What serves, how much of it ``reader`` may read (documents and chunks: the size of
    what they may not read is not theirs to learn), and which access policy it enforces; why
    the policy file is not in force (it names files and lines) only for admins."""
    manifest = read_manifest(served.path)
    documents, chunks = index.selections.masks(Filters(principals=reader.principals()))
    return {
        "index_version": served.version,
        "source": served.source,
        "label": served.label,
        "documents": len(index.doc_ids) if documents is None else int(documents.sum()),
        "chunks": len(index.chunks) if chunks is None else int(chunks.sum()),
        "model": manifest["model"]["id"],
        "policy_hash": enforced_hash(index) or status.hash,
        "version_policy_hash": (manifest.get("access") or {}).get("policy_hash"),
        "policy_error": status.error
        if reader.admin
        else ("" if not status.error else "see an admin"),
    }
