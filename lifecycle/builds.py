"""What a new index version inherits from the one that serves (its encoder, what it learned),
and the versions a build makes: ``read_folder`` and ``build_version`` for ``docsearch build``,
``version_for_pipeline`` from the chunks and vectors the pipeline's steps hand over. Every
one enforces and records the policy of the folder it indexes (``build_policy``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from lifecycle.access import enforce, with_policy
from lifecycle.policies import PolicyStatus, build_policy
from search.chunking import Chunk
from search.config import IndexConfig
from search.encoding import Encoder
from search.index import (
    MEMORY,
    BuiltIndex,
    Embeddings,
    IndexLoadError,
    IndexStore,
    SearchIndex,
    build_and_store,
    build_index,
    corpus_fingerprint,
    encoder_for,
    read_manifest,
)
from search.ingest import Document, LoadReport
from search.progress import ProgressFn
from search.retrieval import ChoiceMemory
from search.settings import Settings
from search.sources import load_corpus


def serving_model(settings: Settings, store: IndexStore) -> str:
    """The encoder new builds should use: the fine-tuned one the current index was promoted
    with (a folder under ``settings.models_dir``), else the configured model. Without this a
    rebuild after a promotion would silently fall back to the base encoder."""
    current = store.current()
    if current:
        try:
            model = read_manifest(store.path(current))["model"]["id"]
        except IndexLoadError:
            return settings.model
        path = Path(model)
        if path.is_dir() and path.resolve().is_relative_to(settings.models_dir.resolve()):
            return model
    return settings.model


def keep_learned_state(index: SearchIndex, store: IndexStore) -> SearchIndex:
    """``index`` with what the serving version learned from feedback, when it learned anything
    (the closed loop gave it a feedback memory): the fitted fusion settings and the memory,
    less choices of documents no longer indexed. Without this, rebuilding after documents
    change would quietly drop what a promotion proved."""
    current = store.current()
    if current is None:
        return index
    try:
        served = read_manifest(store.path(current))
        if not served.get("memory"):
            return index
        memory = ChoiceMemory.load(store.path(current) / MEMORY)
    except (IndexLoadError, OSError, ValueError, KeyError, RuntimeError) as exc:
        # the new version is still built; the gate then compares it with what serves
        logging.getLogger(__name__).warning(
            "serving version %s: feedback memory unreadable, not carried over (%s)", current, exc
        )
        return index
    fitted = {k: served["config"][k] for k in ("fusion", "dense_weight") if k in served["config"]}
    index.config = IndexConfig.from_dict(index.config.to_dict() | fitted)
    return index.with_memory(memory.restricted_to(set(index.documents)))


class FolderRead(NamedTuple):
    report: LoadReport
    policy: PolicyStatus  # the policy of the folder, which the version enforces and records


def read_folder(
    settings: Settings, docs: str | Path, progress: ProgressFn | None = None
) -> FolderRead:
    """Folder ``docs`` parsed, with its policy (PolicyError when it has two), and the
    documents of every connected source's mirror: a file with several names is read under the
    one the policy lets the fewest read."""
    status = build_policy(settings, docs)
    report = load_corpus(
        docs, settings.sources_dir, progress=progress, prefer=status.policy.strictest
    )
    return FolderRead(report, status)


def build_version(
    settings: Settings,
    read: FolderRead,
    store: IndexStore,
    config: IndexConfig,
    *,
    activate: bool,
    progress: ProgressFn | None = None,
) -> BuiltIndex:
    """``docsearch build``: a new version of the documents ``read_folder`` read, made to
    enforce and record their folder's policy before it is written (current if ``activate``)."""
    status = read.policy
    encoder = encoder_for(config, settings, read.report.documents)
    return build_and_store(
        read.report.documents,
        config,
        encoder,
        settings,
        store,
        activate=activate,
        progress=progress,
        before_write=lambda index: enforce(index, status.policy, status.record()),
    )


class PipelineVersion(NamedTuple):
    version: str
    reused: bool  # True when a stored version was built from the same corpus, config, encoder
    policy_hash: str = ""  # the access policy the version enforces
    policy_error: str = ""  # why the policy file is not in force (the last good one is)


def version_for_pipeline(
    settings: Settings,
    store: IndexStore,
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    embeddings: Embeddings,
    config: IndexConfig,
    encoder: Encoder,
) -> PipelineVersion:
    """The index version the pipeline's steps make: the stored one built from the same corpus,
    config and encoder when there is one, else a new one assembled from the chunks and vectors
    the steps handed over (nothing chunked or read from the cache again), keeping what the
    serving version learned; then made to enforce the policy of the documents folder it
    indexes (a new version beside it when the version records another, nothing re-embedded).
    It is not made current: the registry's gate decides."""
    status = build_policy(settings, settings.docs)
    version = store.find_reusable(corpus_fingerprint(documents), config, encoder)
    reused = version is not None
    if version is None:  # a new version carries the policy from the start: one version, not two
        index = build_index(documents, chunks, embeddings, config, encoder)
        index = enforce(keep_learned_state(index, store), status.policy, status.record())
        version = store.write(index, activate=False)
    enforced = with_policy(settings, store, version, status)
    return PipelineVersion(
        enforced.version,
        reused=reused and not enforced.made,
        policy_hash=enforced.status.hash,
        policy_error=enforced.status.error or "",
    )


def register_and_gate(
    settings: Settings,
    index_path: str | Path,
    encoder: Encoder,
    config: IndexConfig,
    tags: dict[str, str] | None = None,
):
    """What ``index_job`` does with a version it made, in one call: evaluate it on every
    labeled set (``evaluate_version``), log its MLflow run, register it, and let the gate
    settle it (``Registry.settle``: champion, and the local CURRENT, when it passes; the
    challenger otherwise, the champion serving on). Returns the registry's ``Promotion``."""
    from evaluation import evaluate_version
    from lifecycle.environments import policy_for
    from lifecycle.registry import Registry

    result = evaluate_version(
        SearchIndex.load(index_path, encoder), settings.labeled_sets(), settings, config
    )
    registry = Registry.from_settings(settings)
    run_id, _ = registry.log_version(index_path, result.evaluations, result.latency, tags or {})
    version = registry.version_for_run(run_id) or registry.register(run_id, index_path)
    return registry.settle(str(version.version), policy_for(settings))
