"""The local IndexStore follows the registry: CURRENT points at the champion's index folder."""

from __future__ import annotations

import logging

from mlflow.entities.model_registry import ModelVersion

from lifecycle.registry.names import INDEX_ROOT_TAG, INDEX_VERSION_TAG, MANIFEST_HASH_TAG
from search.index import IndexLoadError, IndexStore

logger = logging.getLogger(__name__)


def activate_local(version: ModelVersion) -> bool:
    """Point the local IndexStore's CURRENT at a model version's index, when it is on disk and
    its manifest is the one registered (the version's manifest sha256 tag); a folder whose
    manifest was edited since is refused (logged) and CURRENT stays where it was."""
    root, name = version.tags.get(INDEX_ROOT_TAG), version.tags.get(INDEX_VERSION_TAG)
    if not root or not name:
        return False
    store = IndexStore(root)
    if not store.path(name).is_dir():
        return False
    try:
        store.activate(name, version.tags.get(MANIFEST_HASH_TAG) or None)
    except IndexLoadError as exc:
        logger.warning("registered version %s not made CURRENT: %s", version.version, exc)
        return False
    return True
