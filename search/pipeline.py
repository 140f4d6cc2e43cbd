"""End-to-end steps shared by the CLI, Dagster assets and the app: build, reuse, open an index."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from search.config import IndexConfig
from search.documents import Document
from search.embedding_cache import EmbeddingCache
from search.encoder import Encoder, load_encoder
from search.index import (
    MEMORY,
    IndexLoadError,
    SearchIndex,
    corpus_fingerprint,
    encoder_matches,
    read_manifest,
)
from search.memory import FeedbackMemory
from search.progress import ProgressPrinter
from search.settings import Settings
from search.store import IndexStore


@dataclass
class BuiltIndex:
    index: SearchIndex
    version: str
    path: Path
    reused: bool  # True when an identical index already existed and was loaded instead


def build_and_store(
    documents: Sequence[Document],
    config: IndexConfig,
    encoder: Encoder,
    settings: Settings,
    store: IndexStore,
    activate: bool = True,
    progress: ProgressPrinter | None = None,
) -> BuiltIndex:
    """Build an index (embedding through the cache) and write it as a new version."""
    cache = EmbeddingCache(settings.cache_path)
    try:
        index = SearchIndex.build(documents, config, encoder, cache, progress=progress)
    finally:
        cache.close()
    version = store.write(index, activate=activate)
    return BuiltIndex(index, version, store.path(version), reused=False)


def build_or_reuse(
    documents: Sequence[Document],
    config: IndexConfig,
    settings: Settings,
    store: IndexStore,
    encoder: Encoder | None = None,
    progress: ProgressPrinter | None = None,
) -> BuiltIndex:
    """Load the newest stored version built from the same corpus, config and model, else build
    one. A new build becomes current only in a store with no current version: measuring a
    configuration never replaces the version that serves (a promoted champion, say)."""
    encoder = encoder or load_encoder(config.model, batch_size=config.batch_size)
    wanted = corpus_fingerprint({d.id: {"metadata": d.metadata} for d in documents})
    for version in reversed(store.versions()):
        try:
            manifest = read_manifest(store.path(version))
            if (
                manifest["corpus_fingerprint"] == wanted
                and manifest["config_fingerprint"] == config.build_fingerprint()
                and encoder_matches(manifest["model"], encoder)
            ):
                index = store.load(version, encoder)
                # query-time settings come from the caller's config, not the stored one
                index.config = config
                return BuiltIndex(index, version, store.path(version), reused=True)
        except IndexLoadError:
            continue  # a broken version is skipped; a fresh build replaces it below
    return build_and_store(
        documents,
        config,
        encoder,
        settings,
        store,
        activate=_no_usable_current(store),
        progress=progress,
    )


def _no_usable_current(store: IndexStore) -> bool:
    current = store.current()
    if current is None:
        return True
    try:
        read_manifest(store.path(current))
    except IndexLoadError:
        return True
    return False


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
        memory = FeedbackMemory.load(store.path(current) / MEMORY)
    except (IndexLoadError, OSError, ValueError, KeyError, RuntimeError) as exc:
        # the new version is still built; the gate then compares it with what serves
        logging.getLogger(__name__).warning(
            "serving version %s: feedback memory unreadable, not carried over (%s)", current, exc
        )
        return index
    fitted = {k: served["config"][k] for k in ("fusion", "dense_weight") if k in served["config"]}
    index.config = IndexConfig.from_dict(index.config.to_dict() | fitted)
    return index.with_memory(memory.restricted_to(set(index.documents)))
