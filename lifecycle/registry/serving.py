"""What serves: the environment's champion (``models:/<model>@champion``) as a local folder.

On the machine that built it, the index folder the build wrote serves as it is. Anywhere else
(a serving machine with a home of its own, sharing no folder with the builder) the version is
fetched from the artifact store through the tracking server, every file checked against the
sha256 its manifest records, and only then renamed into place: a fetch is atomic, and one that
fails or does not verify never replaces the version being served (the ``SERVED`` record).
Fetched versions are cleaned when another one comes to serve (``clean_fetched``), as the index
store's versions are (``lifecycle.housekeeping``): the newest ``keep_versions`` stay, and never
the one serving or the one served before it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

from mlflow.entities.model_registry import ModelVersion

from lifecycle.registry.models import Registry
from lifecycle.registry.names import (
    CHAMPION,
    CHAMPION_SINCE_TAG,
    INDEX_PATH_TAG,
    INDEX_VERSION_TAG,
    MANIFEST_HASH_TAG,
    MODEL_DIR,
)
from search.index import MANIFEST, IndexLoadError, read_manifest
from search.settings import Settings

logger = logging.getLogger(__name__)

SERVED = "SERVED.json"  # under the models folder: the last champion fetched and verified
STAGING_HOURS = 1.0  # a fetch still staging after this long was interrupted: its folder goes


class Champion(NamedTuple):
    """What serves: a label for people ("docsearch-index v3") and the index folder to load."""

    label: str
    path: Path
    index_version: str = ""  # the index folder's id, as the builder named it
    note: str = ""  # why this is not the registry's champion of the moment, when it is not
    since: str = ""  # when it became champion (ISO 8601, UTC), when the registry says


class FetchError(RuntimeError):
    """A registered version could not be fetched, or its files did not match its manifest."""


def resolve_champion(settings: Settings) -> Champion | None:
    """The index that serves in this environment, or None when there is no registry store or
    no champion yet (the caller falls back to the newest local index).

    When the champion cannot be fetched or verified, the last champion this home fetched and
    verified keeps serving, with a note saying why."""
    uri = settings.mlflow_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return None
    registry = Registry.from_settings(settings)
    champion = registry.alias(CHAMPION)
    if champion is None:
        return None
    label = f"{registry.model_name} v{champion.version}"
    since = champion.tags.get(CHAMPION_SINCE_TAG, "")
    index_version = champion.tags.get(INDEX_VERSION_TAG, "")
    local = champion.tags.get(INDEX_PATH_TAG)
    if local and _is_inside(Path(local), settings.home) and (Path(local) / MANIFEST).is_file():
        # the manifest registered, or IndexLoadError: the local store's CURRENT serves instead
        read_manifest(Path(local), champion.tags.get(MANIFEST_HASH_TAG) or None)
        return Champion(label, Path(local), index_version, since=since)
    try:
        folder = fetch_version(registry, champion, settings.models_dir)
    except FetchError as exc:
        previous = last_served(settings.models_dir)
        if previous is None:
            raise
        logger.warning("%s; still serving %s", exc, previous.label)
        return previous._replace(note=f"{label} was not served: {exc}")
    served = Champion(label, folder, index_version or folder.name, since=since)
    before = last_served(settings.models_dir)
    _record_served(settings.models_dir, served)
    if before is None or before.path != served.path:
        protect = {served.path} | ({before.path} if before else set())
        clean_fetched(settings.models_dir, registry.model_name, settings.keep_versions, protect)
    return served


def fetched_folder(models_dir: Path, model_name: str, number: str | int) -> Path:
    """Where version ``number`` of ``model_name`` is fetched to."""
    return models_dir / f"{model_name}-v{number}"


def clean_fetched(
    models_dir: Path, model_name: str, keep: int, protect: Collection[Path] = ()
) -> list[Path]:
    """Remove fetched versions of ``model_name`` beyond the ``keep`` fetched last, never one in
    ``protect`` (the one serving, the one served before it: another process may still read
    it), and staging folders of fetches interrupted more than STAGING_HOURS ago. Returns what
    was removed; a folder that cannot be removed is left for the next time."""
    fetched = sorted(
        (p for p in models_dir.glob(f"{model_name}-v*") if p.name[len(model_name) + 2 :].isdigit()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    kept = {p.resolve() for p in protect}
    old = [p for p in fetched[keep:] if not any(k.is_relative_to(p.resolve()) for k in kept)]
    cutoff = time.time() - STAGING_HOURS * 3600
    old += [p for p in models_dir.glob(f".{model_name}-v*-*") if p.stat().st_mtime < cutoff]
    removed = []
    for path in old:
        try:
            shutil.rmtree(path)
            removed.append(path)
        except OSError as exc:  # cleaning never stops serving
            logger.warning("could not remove the fetched version %s: %s", path, exc)
    return removed


def resolve_version(settings: Settings, number: str) -> Champion:
    """Any registered version of the environment as a local folder to serve from (an
    experiment's challenger, a canary's previous champion): the builder's own folder on the
    machine that built it, else fetched and verified like the champion."""
    registry = Registry.from_settings(settings)
    version = registry.version(number)
    label = f"{registry.model_name} v{version.version}"
    index_version = version.tags.get(INDEX_VERSION_TAG, "")
    local = version.tags.get(INDEX_PATH_TAG)
    if local and _is_inside(Path(local), settings.home) and (Path(local) / MANIFEST).is_file():
        read_manifest(Path(local), version.tags.get(MANIFEST_HASH_TAG) or None)
        return Champion(label, Path(local), index_version)
    folder = fetch_version(registry, version, settings.models_dir)
    return Champion(label, folder, index_version or folder.name)


def fetch_version(registry: Registry, version: ModelVersion, models_dir: Path) -> Path:
    """The index folder of a registered version under ``models_dir``, downloaded once from
    the artifact store and verified; raises FetchError and leaves nothing behind otherwise."""
    target = fetched_folder(models_dir, registry.model_name, version.version)
    if target.is_dir():
        return _index_in(target)
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=models_dir))
    try:
        try:
            registry.client.download_artifacts(version.run_id, MODEL_DIR, str(staging))
        except Exception as exc:  # noqa: BLE001 - any transport or store failure
            raise FetchError(
                f"{registry.model_name} v{version.version} could not be downloaded from the "
                f"artifact store ({type(exc).__name__}: {exc}); check the tracking server"
            ) from exc
        verify_index_folder(_index_in(staging), version.tags.get(MANIFEST_HASH_TAG) or None)
        try:
            os.rename(staging, target)  # atomic: the folder appears whole or not at all
        except OSError:
            if not target.is_dir():  # not another process having fetched it first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _index_in(target)


def verify_index_folder(folder: Path, manifest_sha256: str | None = None) -> None:
    """The manifest is the one registered (``manifest_sha256``, when the version records it)
    and every file it lists is there with the sha256 it records; raises FetchError."""
    try:
        manifest = read_manifest(folder, manifest_sha256)
    except IndexLoadError as exc:
        raise FetchError(str(exc)) from exc
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise FetchError(f"{folder.name}: {name} is missing from the fetched version")
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            raise FetchError(
                f"{folder.name}: {name} does not match the sha256 in its manifest; the "
                "artifact store holds a damaged copy: register the version again"
            )


def last_served(models_dir: Path) -> Champion | None:
    """The champion this home fetched, verified and served last, if its folder is still there."""
    try:
        record = json.loads((models_dir / SERVED).read_text())
        served = Champion(
            record["label"],
            Path(record["path"]),
            record["index_version"],
            since=record.get("since", ""),
        )
    except (OSError, ValueError, KeyError):
        return None
    return served if (served.path / MANIFEST).is_file() else None


def _record_served(models_dir: Path, champion: Champion) -> None:
    record = {"label": champion.label, "path": str(champion.path)}
    record["index_version"] = champion.index_version
    record["since"] = champion.since
    tmp = models_dir / f".{SERVED}.tmp"
    tmp.write_text(json.dumps(record))
    os.replace(tmp, models_dir / SERVED)


def _index_in(fetched: Path) -> Path:
    """The index folder inside a fetched pyfunc model (it keeps the builder's folder name)."""
    found = sorted((fetched / MODEL_DIR / "artifacts").glob(f"*/{MANIFEST}"))
    if not found:
        raise FetchError(f"{fetched} holds no index: the registered model has no {MANIFEST}")
    return found[0].parent


def _is_inside(path: Path, home: Path) -> bool:
    """A folder the build wrote serves as it is only on the machine (the home) that wrote it."""
    return path.resolve().is_relative_to(home.resolve())
