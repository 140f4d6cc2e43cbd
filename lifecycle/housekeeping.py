"""The index store cleaned on every start: where a build or a serving process opens it.

``IndexStore.clean`` removes staging folders of interrupted writes, versions beyond
``settings.keep_versions`` and versions never activated for ``unactivated_retention_hours``,
never the current version or the one activated before it. What the registry points at (every
alias, champion and challenger, and the previous champion) is protected too: it is read here,
so the search layer never imports MLflow. When the registry cannot be read, only staging
folders are cleaned (what it protects is unknown).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from search.index import Cleaned, IndexStore, Retention
from search.settings import Settings

logger = logging.getLogger(__name__)

_opened: set[Path] = set()  # store roots this process has cleaned already
_lock = threading.Lock()


def open_store(settings: Settings, name: str | None = None) -> IndexStore:
    """The index store ``name`` (default: the served one), cleaned the first time this process
    opens it."""
    store = IndexStore(settings.index_root(name))
    root = store.root.resolve()
    with _lock:
        first = root not in _opened
        _opened.add(root)
    if first:
        clean_store(settings, store)
    return store


def clean_store(settings: Settings, store: IndexStore) -> Cleaned:
    """Clean ``store`` now with the settings' retention, protecting what the registry names."""
    retention = Retention(settings.keep_versions, settings.unactivated_retention_hours)
    try:
        return store.clean(retention, registry_protected(settings))
    except Exception as exc:  # noqa: BLE001 - cleaning never stops a build or a search
        logger.warning("cleaning %s failed: %s", store.root, exc)
        return Cleaned()


def registry_protected(settings: Settings) -> set[str] | None:
    """Index versions the registry points at: every alias and the previous champion; an empty
    set without a registry store, None when it cannot be read."""
    uri = settings.mlflow_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return set()
    try:
        from mlflow.exceptions import MlflowException

        from lifecycle.registry import INDEX_VERSION_TAG, Registry

        registry = Registry.from_settings(settings)
        try:
            aliases = registry.client.get_registered_model(registry.model_name).aliases
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":  # nothing registered yet
                return set()
            raise
        numbers = {str(v) for v in dict(aliases).values()} | set(registry.history()[-2:])
        versions = (registry.client.get_model_version(registry.model_name, n) for n in numbers)
        return {v.tags[INDEX_VERSION_TAG] for v in versions if v.tags.get(INDEX_VERSION_TAG)}
    except Exception as exc:  # noqa: BLE001 - an unreachable registry never stops a start
        logger.warning("registry not readable, index versions not cleaned: %s", exc)
        return None
