"""Index versions built from documents, or reused when an identical one is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from search.config import IndexConfig
from search.encoding import EmbeddingCache, Encoder, load_encoder
from search.index.search_index import (
    IndexLoadError,
    SearchIndex,
    corpus_fingerprint,
    encoder_matches,
    read_manifest,
)
from search.index.store import IndexStore
from search.ingest import Document
from search.progress import ProgressPrinter
from search.settings import Settings


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
