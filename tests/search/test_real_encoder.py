"""End to end with the real packaged all-MiniLM-L6-v2 on the shipped sample corpus."""

import pytest

from evaluation.beir import load_labeled_set
from evaluation.runner import evaluate_index
from search.config import IndexConfig
from search.encoding import EmbeddingCache
from search.index import SearchIndex
from search.settings import SAMPLE_SET

pytestmark = pytest.mark.slow


def test_sample_corpus_end_to_end(real_encoder, tmp_path):
    labeled = load_labeled_set(SAMPLE_SET, "test")
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    index = SearchIndex.build(labeled.documents, IndexConfig(), real_encoder, cache)
    assert index.build_stats.chunks_embedded == index.build_stats.chunks > len(labeled.documents)
    scores = {m: evaluate_index(index, labeled, m).mean for m in ("bm25", "dense", "hybrid")}
    # the sample's questions are answerable: hybrid finds most answers in the top 10
    assert scores["hybrid"]["ndcg_at_10"] >= 0.7
    assert scores["hybrid"]["recall_at_100"] == 1.0
    assert (
        scores["hybrid"]["ndcg_at_10"]
        >= max(scores["bm25"]["ndcg_at_10"], scores["dense"]["ndcg_at_10"]) - 0.05
    )
    # paraphrase without shared words: only meaning connects them
    top = index.search("I forgot my login secret, how do I get a new one?", k=3, method="dense")
    assert any("password" in (r.title + r.snippet.text).lower() for r in top)
    # a rebuild reuses every embedding
    again = SearchIndex.build(labeled.documents, IndexConfig(), real_encoder, cache)
    assert again.build_stats.chunks_embedded == 0
    folder = index.save(tmp_path / "idx")
    assert SearchIndex.load(folder, real_encoder).run(labeled.queries) == index.run(labeled.queries)
