"""BM25 over a large collection ranks among positive scores; it agrees with bm25s's selection."""

import numpy as np
import pytest

from search.retrieval import sparse
from search.retrieval.sparse import SparseIndex

WORDS = ["vpn", "error", "battery", "charge", "password", "manager", "printer", "toner", "wifi"]


@pytest.fixture(scope="module")
def index():
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, rng.integers(1, 8))) + f" doc{i}" for i in range(2000)]
    return SparseIndex.build(texts)


@pytest.mark.parametrize("allowed", [None, "mask", "rows"])
def test_both_selections_give_the_same_hits(index, allowed, monkeypatch):
    rng = np.random.default_rng(1)
    mask = rng.random(len(index)) < 0.2
    given = {None: None, "mask": mask, "rows": np.flatnonzero(mask)}[allowed]
    queries = ["vpn error", "battery charge printer", "doc17 wifi", "nothing-matches-this", ""]
    small_scores, small_ids = index.search(queries, 50, given)
    monkeypatch.setattr(sparse, "SELECT_AMONG_ALL_UPTO", 0)
    large_scores, large_ids = index.search(queries, 50, given)
    for s1, i1, s2, i2 in zip(small_scores, small_ids, large_scores, large_ids, strict=True):
        one = {(int(i), round(float(s), 5)) for i, s in zip(i1, s1, strict=True) if i >= 0}
        two = {(int(i), round(float(s), 5)) for i, s in zip(i2, s2, strict=True) if i >= 0}
        cutoff = min((s for _, s in one | two), default=0.0)
        assert all(s == cutoff for _, s in one ^ two)  # equal scores at the cut may differ
        assert list(s2) == sorted(s2, reverse=True)
        if given is not None:
            assert mask[i2[i2 >= 0]].all()
    assert (large_ids[3:] == -1).all()


@pytest.mark.parametrize(("stemmer", "stopwords"), [("english", "en"), ("", ""), ("english", "")])
def test_one_query_is_tokenized_as_bm25s_does(stemmer, stopwords):
    index = SparseIndex.build(["hello world"], stemmer=stemmer, stopwords=stopwords)
    texts = [
        "", "The and of", "Running runners ran", "ÉCOLE café naïve résumé x a",
        "C++ 3.5mg/kg IL-6 p<0.05 _under_score", "tab\tnew\nline", "What is the VPN error 809?",
    ]  # fmt: skip
    for text in texts:
        assert index.tokenize_one(text) == index.tokenize([text])[0], text
