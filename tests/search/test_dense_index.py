"""The dense index chosen by size: exact below the threshold, IVF over 8-bit codes above; its recall
measured against exact search."""

import faiss
import numpy as np
import pytest

from search.retrieval import FLAT, HNSW_SQ8, IVF_SQ8, DenseIndex


def _clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n // 50, dim))
    x = centres[rng.integers(0, len(centres), n)] + 0.3 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def vectors():
    return _clustered(6000)


def test_small_collections_stay_exact(vectors):
    index = DenseIndex.build(vectors, approximate_above=len(vectors), compress=True)
    assert index.describe() == {"kind": FLAT, "vectors": 6000, "dim": 32, "recall_at_10": 1.0}
    assert index.measure_recall(vectors) == 1.0  # exact search, nothing to measure
    exact = faiss.IndexFlatIP(32)
    exact.add(vectors)
    assert np.array_equal(index.search(vectors[:20], 10)[1], exact.search(vectors[:20], 10)[1])


def test_large_collections_get_ivf_sq8_with_its_parameters(vectors, tmp_path):
    index = DenseIndex.build(vectors, approximate_above=1000, compress=True, probes=24)
    described = index.describe()
    assert index.kind == IVF_SQ8 and described["codes"] == "sq8"
    assert (described["lists"], described["probes"]) == (46, 24)  # 6000 // 128 lists
    assert "recall_at_10" not in described  # not measured yet
    index.save(tmp_path / "dense.faiss")
    again = DenseIndex.load(tmp_path / "dense.faiss", IVF_SQ8)
    assert again.describe() == described
    queries = _clustered(200, seed=1)
    exact = faiss.IndexFlatIP(32)
    exact.add(vectors)
    truth, found = exact.search(queries, 10)[1], again.search(queries, 10)[1]
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.9
    assert np.allclose(again.vectors(), vectors, atol=0.02)  # decoded from the 8-bit codes


def test_recall_is_measured_against_exact_search_on_own_vectors(vectors):
    few = DenseIndex.build(vectors, approximate_above=1000, compress=True, probes=1)
    many = DenseIndex.build(vectors, approximate_above=1000, compress=True, probes=46)
    # all 46 lists scanned: only the 8-bit codes differ from exact search
    assert few.measure_recall(vectors) < many.measure_recall(vectors)
    assert many.recall_at_10 >= 0.95 and many.describe()["recall_at_10"] == many.recall_at_10


@pytest.mark.parametrize("share", [0.01, 0.3])
def test_filtered_search_returns_allowed_rows_only_and_finds_them(vectors, share):
    index = DenseIndex.build(vectors, approximate_above=1000, compress=True)
    allowed = np.random.default_rng(2).random(len(vectors)) < share
    queries = _clustered(50, seed=3)
    scores, ids = index.search(queries, 10, allowed)
    assert (ids >= 0).all() and allowed[ids].all()
    if share <= 0.05:  # a small share is searched exactly over the allowed rows
        exact = faiss.IndexFlatIP(32)
        exact.add(vectors[allowed])
        truth = np.flatnonzero(allowed)[exact.search(queries, 10)[1]]
        hits = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, ids, strict=True)])
        assert hits >= 0.95  # the 8-bit codes may swap near-equal neighbours
    by_ids = index.search(queries, 10, np.flatnonzero(allowed))[1]
    assert np.array_equal(by_ids, ids)


def test_hnsw_sq8_codes_of_older_versions_are_scored_as_their_decoded_vectors_would_be(vectors):
    graph = faiss.IndexHNSWSQ(32, faiss.ScalarQuantizer.QT_8bit, 16, faiss.METRIC_INNER_PRODUCT)
    graph.train(vectors)
    graph.add(vectors)
    index = DenseIndex(graph, HNSW_SQ8)
    rows = np.array([3, 17, 400, 5999])
    queries = _clustered(50, seed=4)[:5]
    decoded = queries @ index.index.reconstruct_batch(rows).T
    assert np.allclose(index._scores_of(queries, rows), decoded, atol=1e-5)
