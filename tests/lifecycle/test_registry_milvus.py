"""Index versions on the Milvus backend (Milvus Lite) in the registry: registered and promoted
as on FAISS; the champion downloaded where its folder is gone names the same collections
(promotion moves an alias, nothing is copied) and serves the same results."""

from __future__ import annotations

import json
import shutil

from evaluation.metrics import Evaluation
from lifecycle.gate import GatePolicy
from lifecycle.registry import CHAMPION, Registry, resolve_champion
from search.config import IndexConfig
from search.index import DENSE, IndexStore, SearchIndex, read_manifest
from search.retrieval.milvus import connection
from search.settings import Settings


def test_a_milvus_version_is_promoted_and_served_from_the_registry(
    home, tiny_docs, hashing_encoder
):
    uri = str(home.parent / "milvus.db")
    settings = Settings(home=home, docs=home / "docs", model="hashing-128")
    registry = Registry.from_settings(settings)
    store = IndexStore(settings.index_root())
    config = IndexConfig(model="hashing-128", index_backend="milvus", milvus_uri=uri)
    try:
        index = SearchIndex.build(tiny_docs, config, hashing_encoder)
        version = store.write(index, activate=False)
        path = store.path(version)
        good = {"ndcg_at_10": 0.9, "recall_at_100": 1.0, "mrr_at_10": 0.9}
        evaluation = Evaluation(mean=good, per_query={"q1": good})
        run_id = registry.log_build(path, read_manifest(path), {"sample": evaluation}, {})
        registered = str(registry.register(run_id, path).version)
        assert registry.promote(registered, GatePolicy(floor=0.5))[1] is True
        assert str(registry.alias(CHAMPION).version) == registered
        want = index.run({"q": "vpn error 809"}, k=6)
        collections = sorted(connection.client(uri).list_collections())
        shutil.rmtree(path)
        champion = resolve_champion(settings)  # downloaded from the registry's artifacts
        assert champion.path.is_relative_to(settings.models_dir)
        named = json.loads((champion.path / DENSE).read_text())["milvus"]["collection"]
        assert named == index.dense.collection.name
        served = SearchIndex.load(champion.path, hashing_encoder)
        assert served.run({"q": "vpn error 809"}, k=6) == want
        assert sorted(connection.client(uri).list_collections()) == collections  # none new
    finally:
        connection.close_all()
