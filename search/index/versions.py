"""Index versions built from documents, or reused when an identical one is stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from search.config import IndexConfig
from search.encoding import EmbeddingCache, Encoder, load_encoder
from search.index.manifest import IndexLoadError, corpus_fingerprint
from search.index.search_index import SearchIndex
from search.index.store import IndexStore
from search.ingest import Document
from search.progress import ProgressFn
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
    progress: ProgressFn | None = None,
    before_write: Callable[[SearchIndex], SearchIndex] | None = None,
) -> BuiltIndex:
    """Build an index (embedding through the cache) and write it as a new version;
    ``before_write`` gives the index that is written (the layer above makes it enforce the
    access policy of its documents there)."""
    cache = EmbeddingCache(settings.cache_path)
    try:
        index = SearchIndex.build(documents, config, encoder, cache, progress=progress)
    finally:
        cache.close()
    if before_write is not None:
        index = before_write(index)
    version = store.write(index, activate=activate)
    return BuiltIndex(index, version, store.path(version), reused=False)


def encoder_for(
    config: IndexConfig, settings: Settings, documents: Sequence[Document] = ()
) -> Encoder:
    """The encoder ``config`` names, run by its backend; an exported backend keeps its export
    under the home and, the first time, calibrates int8 on ``documents`` (the corpus itself)."""
    return load_encoder(
        config.model,
        batch_size=config.batch_size,
        backend=config.encoder_backend,
        export_dir=settings.exported_models_dir,
        calibration=[f"{d.title}\n{d.text}" for d in documents] or None,
    )


def build_or_reuse(
    documents: Sequence[Document],
    config: IndexConfig,
    settings: Settings,
    store: IndexStore,
    encoder: Encoder | None = None,
    progress: ProgressFn | None = None,
) -> BuiltIndex:
    """Load the newest stored version built from the same corpus, config and model
    (``IndexStore.find_reusable``), else build one. A new build becomes current only in a
    store with no usable current version: measuring a configuration never replaces the
    version that serves (a promoted champion, say)."""
    encoder = encoder or encoder_for(config, settings, documents)
    version = store.find_reusable(corpus_fingerprint(documents), config, encoder)
    if version is not None:
        try:
            index = store.load(version, encoder)
        except IndexLoadError:
            pass  # broken since it was checked: a fresh build replaces it below
        else:
            index.config = config  # query-time settings come from the caller, not the stored one
            return BuiltIndex(index, version, store.path(version), reused=True)
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
        store.check(current)
    except IndexLoadError:
        return True
    return False
