"""The store and a real MLflow SQLite registry together: registered versions carry their
manifest's sha256, an edited champion manifest is refused (the version before it serves), and
cleaning never removes what an alias or the previous champion points at."""

from __future__ import annotations

import json
import os

import pytest

from evaluation.metrics import Evaluation
from lifecycle.gate import GatePolicy
from lifecycle.housekeeping import clean_store, open_store, registry_protected
from lifecycle.registry import CHALLENGER, CHAMPION, MANIFEST_HASH_TAG, Registry
from lifecycle.serving import FROM_LOCAL_STORE, resolve_serving
from search.config import IndexConfig
from search.index import MANIFEST, IndexStore, SearchIndex, manifest_sha256, read_manifest
from search.settings import Settings

POLICY = GatePolicy(floor=0.5, tolerance=0.01)


@pytest.fixture
def settings(home) -> Settings:
    return Settings(
        home=home, docs=home / "docs", model="hashing-128", keep_versions=1,
        unactivated_retention_hours=0,
    )  # fmt: skip


@pytest.fixture
def built(settings, tiny_docs, hashing_encoder) -> SearchIndex:
    return SearchIndex.build(tiny_docs, IndexConfig(model="hashing-128"), hashing_encoder)


def _register(settings, registry, index, ndcg: float) -> tuple[str, str]:
    store = IndexStore(settings.index_root())
    version = store.write(index, activate=False)
    path = store.path(version)
    evaluation = Evaluation({"ndcg_at_10": ndcg, "recall_at_100": 1.0, "mrr_at_10": ndcg}, {})
    run_id = registry.log_build(path, read_manifest(path), {"sample": evaluation}, {})
    return str(registry.register(run_id, path).version), version


def test_registry_versions_are_protected_and_tagged(settings, built):
    registry = Registry.from_settings(settings)
    assert registry_protected(settings) == set()  # no registry store yet
    v1, index1 = _register(settings, registry, built, 0.7)
    v2, index2 = _register(settings, registry, built, 0.8)
    v3, index3 = _register(settings, registry, built, 0.6)  # below the floor: challenger
    registry.promote(v1, POLICY)
    registry.promote(v2, POLICY)
    assert registry.promote(v3, POLICY)[1] is False
    _, stray = _register(settings, registry, built, 0.9)  # registered, never an alias
    store = IndexStore(settings.index_root())
    orphan = store.write(built, activate=False)  # built, never registered nor activated
    mv = registry.client.get_model_version(registry.model_name, v2)
    assert mv.tags[MANIFEST_HASH_TAG] == manifest_sha256(store.path(index2))
    assert registry.alias(CHAMPION).version == mv.version
    assert registry.alias(CHALLENGER).version == registry.version(v3).version

    assert registry_protected(settings) == {index1, index2, index3}
    cleaned = clean_store(settings, store)
    assert sorted(cleaned.versions) == sorted([stray, orphan])
    assert store.versions() == sorted([index1, index2, index3])


def test_an_edited_champion_manifest_is_refused_and_the_previous_one_serves(settings, built):
    registry = Registry.from_settings(settings)
    v1, index1 = _register(settings, registry, built, 0.7)
    v2, index2 = _register(settings, registry, built, 0.8)
    registry.promote(v1, POLICY)
    registry.promote(v2, POLICY)
    assert resolve_serving(settings).version == index2
    store = IndexStore(settings.index_root())
    manifest_path = store.path(index2) / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["files"] = {}
    manifest_path.write_text(json.dumps(manifest))
    serving = resolve_serving(settings)
    assert serving.version == index1 and serving.source == FROM_LOCAL_STORE
    assert "champion was refused" in serving.note and str(manifest_path) in serving.note
    # the registry cannot make it CURRENT again either
    registry.rollback()
    registry.promote(v2, POLICY, force=True)
    assert store.current() == index1  # refused: its manifest is not the one registered


def test_open_store_cleans_once_per_process(settings, built):
    store = IndexStore(settings.index_root())
    store.write(built)
    staging = store.versions_dir / ".20200101T000000000000Z-legacy"  # no pid, no lock, old
    staging.mkdir(parents=True)
    os.utime(staging, (0, 0))
    assert open_store(settings).root == store.root and not staging.exists()
    staging.mkdir()
    os.utime(staging, (0, 0))
    open_store(settings)
    assert staging.exists()  # the second open in this process leaves it to the next start
