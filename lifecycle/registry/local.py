"""The local IndexStore follows the registry: CURRENT points at the champion's index folder."""

from __future__ import annotations

from mlflow.entities.model_registry import ModelVersion

from lifecycle.registry.names import INDEX_ROOT_TAG, INDEX_VERSION_TAG
from search.index import IndexStore


def activate_local(version: ModelVersion) -> bool:
    """Point the local IndexStore's CURRENT at a model version's index, when it is on disk."""
    root, name = version.tags.get(INDEX_ROOT_TAG), version.tags.get(INDEX_VERSION_TAG)
    if not root or not name:
        return False
    store = IndexStore(root)
    if not store.path(name).is_dir():
        return False
    store.activate(name)
    return True
