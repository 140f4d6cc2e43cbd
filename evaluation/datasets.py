"""The index a labeled set's queries run against: built over the set's own documents once,
kept under ``DOCSEARCH_HOME/indexes/eval-<set name>``, and reused while nothing changes."""

from __future__ import annotations

import logging
from pathlib import Path

from evaluation.beir import load_documents
from search.config import IndexConfig
from search.encoding import Encoder
from search.index import (
    BuiltIndex,
    IndexLoadError,
    IndexStore,
    build_or_reuse,
    corpus_fingerprint,
    read_manifest,
)
from search.progress import ProgressFn
from search.settings import Settings

logger = logging.getLogger(__name__)


def index_name_for(dataset: str | Path) -> str:
    """The index name of a labeled set: ``eval-<folder name>``."""
    return f"eval-{Path(dataset).resolve().name}"


def labeled_set_store(root: str | Path, settings: Settings) -> IndexStore:
    """The IndexStore holding a labeled set's index versions."""
    return IndexStore(settings.index_root(index_name_for(root)))


def index_for_labeled_set(
    root: str | Path,
    settings: Settings,
    config: IndexConfig,
    *,
    encoder: Encoder | None = None,
    progress: ProgressFn | None = None,
    prefer_current: bool = False,
) -> BuiltIndex:
    """The index over the labeled set at ``root``: the newest stored version built from its
    documents with ``config`` and ``encoder`` (``IndexStore.find_reusable``), else a new build,
    which becomes current only when nothing usable serves yet.

    ``prefer_current``: the store's current version as it was promoted (a fine-tuned encoder, a
    re-fitted fusion weight), whatever ``config`` says, when it was built from the same
    documents: what the set's simulated users and its learning loop work with. A current
    version over other documents, or one that cannot be loaded, gives way to the above.
    """
    documents = load_documents(root).documents
    store = labeled_set_store(root, settings)
    if prefer_current:
        served = _current_over(store, corpus_fingerprint(documents))
        if served is not None:
            return served
    return build_or_reuse(documents, config, settings, store, encoder, progress)


def _current_over(store: IndexStore, corpus: str) -> BuiltIndex | None:
    """The store's current version, loaded with its own encoder, when built from ``corpus``."""
    current = store.current()
    if current is None:
        return None
    try:
        if read_manifest(store.path(current))["corpus_fingerprint"] != corpus:
            return None
        return BuiltIndex(store.load(current), current, store.path(current), reused=True)
    except IndexLoadError as exc:
        logger.warning("current version %s cannot be used (%s); rebuilding", current, exc)
        return None
