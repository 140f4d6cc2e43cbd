"""The calibrated relevance of a result: features, the stored models, the floor's guarantees."""

from __future__ import annotations

import math

import numpy as np
import pytest

from search.retrieval.relevance import (
    FEATURES,
    RANK_SCORE,
    QueryWeight,
    RelevanceModel,
    candidate_features,
    monotone,
    relevance_model,
    save_models,
    with_evidence,
)


def test_features_are_on_scales_no_collection_sets():
    sparse = {"a": 6.0, "b": 3.0}  # BM25, best first
    dense = {"b": 0.8, "c": 0.5}  # cosines, best first
    ids, rows = candidate_features(sparse, dense, QueryWeight(idf_mass=12.0, known=0.5, terms=3))
    assert ids == ["a", "b", "c"]
    row = dict(zip(FEATURES, rows[0], strict=True))  # "a": BM25's best, missed by the dense list
    assert row["bm25_share"] == pytest.approx(6 / 12)  # half of the most BM25 can give
    assert row["bm25_of_best"] == 1.0 and row["bm25_rank"] == 1.0  # log2(1 + 1)
    assert row["cosine"] == 0.5  # the dense list's lowest: below everything it returned
    assert row["cosine_below_best"] == pytest.approx(0.8 - 0.5)
    assert row["dense_rank"] == pytest.approx(math.log2(1 + 3))  # after its last (2)
    assert row["in_both"] == 0.0
    assert row["rrf"] == pytest.approx(60 / 61)  # one list, rank 1
    assert row["query_known"] == 0.5 and row["query_terms"] == pytest.approx(math.log(4))
    b = dict(zip(FEATURES, rows[1], strict=True))
    assert b["in_both"] == 1.0 and b["rrf"] == pytest.approx(60 / 62 + 60 / 61)
    assert b["bm25_z"] == pytest.approx(-1.0) and b["dense_z"] == pytest.approx(1.0)


def test_no_candidates_no_rows():
    ids, rows = candidate_features({}, {}, QueryWeight(0.0, 0.0, 0))
    assert ids == [] and rows.shape == (0, len(FEATURES))


def test_the_shown_relevance_never_rises_with_rank():
    assert monotone([0.9, 0.4, 0.6, 0.1]) == [0.9, 0.4, 0.4, 0.1]


def test_the_memory_is_independent_evidence():
    assert with_evidence(0.5, 0.5) == pytest.approx(0.75)  # 1 - 0.5 x 0.5
    assert with_evidence(0.2, 0.0) == pytest.approx(0.2) and with_evidence(0.2, 3.0) == 1.0


def test_a_model_is_a_logistic_regression_over_standardised_features(tmp_path):
    model = RelevanceModel(
        "hybrid:test",
        features=(RANK_SCORE, "cosine"),
        mean=(1.0, 0.5),
        scale=(2.0, 0.1),
        coef=(1.0, 2.0),
        intercept=-1.0,
        floor=0.3,
        rank_features=("rrf",),
        rank_coef=(3.0,),
        fitted_on=("x tune (3 queries)",),
    )
    rows = np.zeros((1, len(FEATURES)))
    rows[0, FEATURES.index("rrf")] = 1.0
    rows[0, FEATURES.index("cosine")] = 0.6
    assert model.rank_scores(rows)[0] == 3.0
    # x = ((3 - 1) / 2, (0.6 - 0.5) / 0.1) = (1, 1); logit = 1 + 2 - 1 = 2
    assert model.probabilities(rows)[0] == pytest.approx(1 / (1 + math.exp(-2)))
    path = tmp_path / "models.json"
    save_models([model], {"how": "by hand"}, path)
    assert relevance_model("hybrid", "test", path) == model
    # an encoder it was not fitted for: no model, so no probability and no floor
    assert relevance_model("hybrid", "other", path) is None


@pytest.mark.slow
def test_the_floor_on_the_sample_with_the_real_encoder(real_encoder):
    from evaluation.beir import load_labeled_set
    from search.config import IndexConfig
    from search.index import SearchIndex
    from search.index.forgiving import forgiving_page
    from search.settings import SAMPLE_SET

    labeled = load_labeled_set(SAMPLE_SET, "test")
    index = SearchIndex.build(labeled.documents, IndexConfig(encoder_backend="torch"), real_encoder)
    gibberish = index.search_page("xyzzy qwrtp zzkk")
    assert gibberish.results == [] and not gibberish.good_match
    assert gibberish.held_back == len(labeled.documents)  # every one below the floor
    vpn = index.search_page("vpn error 809")
    assert vpn.results[0].doc_id == "it/vpn-setup.html" and vpn.good_match
    assert 1 <= vpn.found < len(labeled.documents) // 2  # not the whole collection
    weaker = index.search_page("vpn error 809", k=40, weaker=True)
    scores = [r.relevance for r in weaker.results]
    assert scores == sorted(scores, reverse=True) and len(scores) == len(labeled.documents)
    assert all(0.0 <= s <= 1.0 for s in scores)
    # page 2 of a search whose page 1 is right says the same: a good match
    assert index.search_page("vpn error 809", k=1, offset=1, weaker=True).good_match
    corrected = forgiving_page(index, "paswords", wait=None)
    assert corrected.corrected_query == "passwords"
    assert corrected.results.results[0].doc_id == "it/password-policy.md"


def test_a_query_tuned_encoder_reads_its_document_models_relevance():
    """The learning loop's challenger (only its query side fine-tuned, its folder naming the
    document model) keeps the relevance model, so the learned fusion and the floor; an encoder
    no model was fitted for has none, except BM25's, which reads no cosine."""
    from types import SimpleNamespace as NS

    from search.index.query import model_for

    base = relevance_model("hybrid", "all-MiniLM-L6-v2")
    assert base is not None
    tuned = NS(
        config=NS(model="/home/models/encoder-1"),
        encoder=NS(model_id="/home/models/encoder-1", documents=NS(model_id="all-MiniLM-L6-v2")),
    )
    assert model_for(tuned, "hybrid") == base
    assert model_for(tuned, None) == base
    assert model_for(tuned, "dense") == relevance_model("dense", "all-MiniLM-L6-v2")
    other = NS(config=NS(model="/home/models/other"), encoder=NS(model_id="/home/models/other"))
    assert model_for(other, "hybrid") is None
    assert model_for(other, "bm25") == relevance_model("bm25", "")
