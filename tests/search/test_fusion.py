import pytest

from search.retrieval import min_max, rrf, weighted


def test_rrf_sums_reciprocal_ranks():
    a = {"x": 3.0, "y": 2.0}  # x rank 1, y rank 2
    b = {"y": 0.9, "z": 0.5}  # y rank 1, z rank 2
    fused = rrf([a, b], k=60)
    assert fused["y"] == 1 / (60 + 2) + 1 / (60 + 1)
    assert fused["x"] == 1 / (60 + 1)
    assert fused["z"] == 1 / (60 + 2)
    assert max(fused, key=fused.get) == "y"


def test_min_max_and_weighted():
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 5.0}) == {"a": 1.0}
    fused = weighted([{"a": 2.0, "b": 4.0}, {"a": 0.8, "c": 0.4}], [0.25, 0.75])
    # a: 0.25*0 + 0.75*1 = 0.75; b: 0.25*1 = 0.25; c: 0.75*0 = 0
    assert fused == {"a": 0.75, "b": 0.25, "c": 0.0}


def test_z_scores_standardise_each_list():
    from search.retrieval.fusion import z_scores

    z = z_scores({"a": 1.0, "b": 2.0, "c": 3.0})
    assert z["b"] == pytest.approx(0.0) and z["c"] == pytest.approx(-z["a"]) == pytest.approx(
        1.2247, abs=1e-4
    )
    assert z_scores({"a": 5.0, "b": 5.0}) == {"a": 1.0, "b": 1.0} and z_scores({}) == {}


def test_a_list_with_one_match_still_counts():
    """BM25 finding one document (the only one with the query's rare word) is its most
    confident answer: it must lift that document, not vanish for want of a spread."""
    from search.retrieval.fusion import z_score

    bm25 = {"d3": 1.05}
    dense = {"d4": 0.09, "d3": 0.086, "d5": 0.0, "d1": -0.075}
    fused = z_score([bm25, dense])
    assert max(fused, key=fused.get) == "d3"
    # by hand: d3 = 0.5 * 1 + 0.5 * z_dense(d3); d4 = 0.5 * 0 + 0.5 * z_dense(d4)
    assert fused["d3"] - fused["d4"] == pytest.approx(
        0.5 + 0.5 * (0.086 - 0.09) / 0.068137, abs=1e-4
    )


def test_z_score_fusion_is_blind_to_each_retrievers_scale_and_floors_misses():
    from search.retrieval.fusion import z_score

    bm25 = {"a": 30.0, "b": 12.0, "c": 10.0, "d": 9.0}  # "a" stands far above the crowd
    dense = {"b": 0.62, "c": 0.61, "d": 0.60, "e": 0.59}  # cosines close together
    fused = z_score([bm25, dense])
    # top of one list and high in the other first, then one list's confident outlier
    assert sorted(fused, key=fused.get, reverse=True)[:3] == ["b", "a", "c"]
    rescaled = z_score([{k: 1000 * v for k, v in bm25.items()}, dense])
    assert rescaled == pytest.approx(fused)  # the scale of a retriever's scores does not matter
    # a document one list missed counts as that list's lowest z-score, not as its mean
    assert fused["e"] < fused["d"]


def test_the_default_fusion_needs_no_per_collection_weight():
    from search.config import DEFAULT_MODEL, Fusion, IndexConfig
    from search.retrieval.relevance import relevance_model

    # the learned fusion: one stored model for the default encoder, no weight per collection
    assert IndexConfig().fusion == Fusion.RELEVANCE
    model = relevance_model("hybrid", DEFAULT_MODEL)
    assert model is not None and model.ranks
    assert all(" tune " in part for part in model.fitted_on)  # never a REPORT part
