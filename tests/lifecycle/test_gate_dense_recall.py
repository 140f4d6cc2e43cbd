"""The dense index's recall@10 against exact search: measured when a version is built, recorded in
its manifest and its MLflow run, and a floor in the promotion gate."""

import numpy as np
import pytest

from evaluation import bench_scale
from evaluation.metrics import Evaluation
from lifecycle.environments import policy_for
from lifecycle.gate import DENSE_RECALL_METRIC, GatePolicy, decide
from lifecycle.registry import Registry
from search.config import IndexConfig
from search.index import Embeddings, IndexStore, build_index, read_manifest
from search.settings import Settings

GOOD = {"sample/ndcg_at_10": 0.8}


@pytest.fixture(scope="module")
def synthetic():
    """bench-scale's synthetic collection at 8,000 chunks: IVF over 62 lists of about 128."""
    return bench_scale.collection(8000)


def _index(synthetic, vectors=None, **config):
    documents, chunks, clustered, encoder = synthetic
    vectors = clustered if vectors is None else vectors
    config = IndexConfig(model=encoder.model_id, approximate_above=1000).replace(**config)
    embeddings = Embeddings(vectors, 0, len(chunks), 0.0)
    return build_index(documents, chunks, embeddings, config, encoder)


def test_the_manifest_records_the_recall_measured_at_build(synthetic, tmp_path):
    index = _index(synthetic, dense_probes=62)  # every list scanned: the 8-bit codes alone
    assert index.dense.kind == "ivf_sq8_ip" and index.dense.recall_at_10 >= 0.95
    store = IndexStore(tmp_path / "store")
    dense = read_manifest(store.path(store.write(index)))["build"]["dense"]
    assert dense["recall_at_10"] == index.dense.recall_at_10
    assert (dense["lists"], dense["probes"]) == (62, 62)  # 8000 // 128 lists
    loaded = store.load(encoder=synthetic[3])
    assert loaded.dense.describe() == dense  # read back with the version
    flat = _index(synthetic, approximate_above=10_000)  # exact search is exact
    assert flat.dense.describe()["recall_at_10"] == 1.0


def test_the_gate_refuses_a_version_below_the_recall_floor():
    policy = GatePolicy(floor=0.5)
    low = decide(GOOD | {DENSE_RECALL_METRIC: 0.91}, None, policy)
    assert not low.promote
    assert low.reason.startswith("dense_recall_at_10 0.9100 is below the floor 0.9500")
    assert low.as_tags()["gate.dense_recall"] == "0.9100"
    assert decide(GOOD | {DENSE_RECALL_METRIC: 0.96}, None, policy).promote
    assert decide(GOOD, None, policy).promote  # not measured (built before it was): not held
    assert decide(GOOD | {DENSE_RECALL_METRIC: float("nan")}, None, policy).promote
    # the floor is a setting of the environment (DOCSEARCH_MIN_DENSE_RECALL), 0.95 by default
    assert policy_for(Settings()).min_dense_recall == GatePolicy().min_dense_recall == 0.95
    stricter = policy_for(Settings(min_dense_recall=0.97))
    assert not decide(GOOD | {DENSE_RECALL_METRIC: 0.96}, None, stricter).promote


def test_the_run_records_the_recall_and_the_registry_gate_uses_it(synthetic, home):
    settings = Settings(home=home, docs=home / "docs")
    # vectors without neighbourhoods, one list of 62 scanned: most exact neighbours are missed
    noise = np.random.default_rng(0).standard_normal((8000, 384)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    index = _index(synthetic, noise, dense_probes=1)
    store = IndexStore(settings.index_root())
    path = store.path(store.write(index, activate=False))
    measured = read_manifest(path)["build"]["dense"]["recall_at_10"]
    assert measured == index.dense.recall_at_10 < 0.95
    registry = Registry.from_settings(settings)
    sample = Evaluation(mean={"ndcg_at_10": 0.8}, per_query={"q1": {"ndcg_at_10": 0.8}})
    run_id = registry.log_build(path, read_manifest(path), {"sample": sample}, {})
    assert registry.run_metrics(run_id)[DENSE_RECALL_METRIC] == pytest.approx(measured)
    version = str(registry.register(run_id, path).version)
    decision = registry.decide(version, GatePolicy(floor=0.5))
    assert not decision.promote and decision.reason.startswith(DENSE_RECALL_METRIC)
    lower = registry.decide(version, GatePolicy(floor=0.5, min_dense_recall=measured))
    assert lower.promote  # at the floor is enough
