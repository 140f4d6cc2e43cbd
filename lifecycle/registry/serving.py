"""What serves: ``models:/docsearch-index@champion`` as a local index folder."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from lifecycle.registry.models import Registry
from lifecycle.registry.names import CHAMPION, INDEX_PATH_TAG, MODEL_DIR
from search.index import MANIFEST
from search.settings import Settings


class Champion(NamedTuple):
    """What serves: a label for people ("docsearch-index v3") and the index folder to load."""

    label: str
    path: Path


def resolve_champion(settings: Settings) -> Champion | None:
    """The index that serves: ``models:/docsearch-index@champion`` as a local folder.

    Returns None when there is no MLflow store or no champion yet (the caller falls back to
    the newest local index). The index folder the build wrote is used when it is still on
    disk; otherwise the model's artifacts are downloaded once under ``settings.models_dir``.
    """
    uri = settings.mlflow_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return None
    registry = Registry(uri)
    champion = registry.alias(CHAMPION)
    if champion is None:
        return None
    label = f"{registry.model_name} v{champion.version}"
    local = champion.tags.get(INDEX_PATH_TAG)
    if local and (Path(local) / MANIFEST).is_file():
        return Champion(label, Path(local))
    target = settings.models_dir / f"{registry.model_name}-v{champion.version}"
    artifacts = target / MODEL_DIR / "artifacts"  # pyfunc keeps the index folder's own name
    if not any(artifacts.glob(f"*/{MANIFEST}")):
        target.mkdir(parents=True, exist_ok=True)
        registry.client.download_artifacts(champion.run_id, MODEL_DIR, str(target))
    return Champion(label, next(artifacts.glob(f"*/{MANIFEST}")).parent)
