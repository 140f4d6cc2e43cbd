"""The query path: each method, fusion, filters, snippets, approximate search."""

import pytest

from search.config import IndexConfig
from search.index import SearchIndex
from search.retrieval import Filters

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


@pytest.mark.parametrize("method", ["bm25", "dense", "hybrid"])
def test_each_method_finds_the_answer(index, method):
    results = index.search("vpn error 809", k=3, method=method)
    assert results[0].doc_id == "d2"
    assert [r.rank for r in results] == list(range(1, len(results) + 1))


def test_hybrid_result_carries_score_parts_and_snippet(index):
    top = index.search("parental leave weeks", k=1, fusion="rrf")[0]
    assert top.doc_id == "d1"
    assert top.bm25_score > 0 and top.dense_score > 0
    assert top.score == pytest.approx(1 / 61 + 1 / 61)  # rank 1 in both lists, k=60
    assert "**leave**" in top.snippet.render()


def test_filters_restrict_every_retriever(tiny_docs, hashing_encoder):
    index = SearchIndex.build(tiny_docs, CONFIG, hashing_encoder)
    allow_only_d3 = Filters.of(allow=lambda meta: meta["path"] == "d3")
    for method in ("bm25", "dense", "hybrid"):
        results = index.search("vpn error 809", k=5, method=method, filters=allow_only_d3)
        assert {r.doc_id for r in results} <= {"d3"}
    assert index.search("vpn", filters=Filters.of(formats=["pdf"])) == []


def test_a_saved_index_filters_on_the_same_metadata(tiny_docs, hashing_encoder, tmp_path):
    saved = SearchIndex.build(tiny_docs, CONFIG, hashing_encoder).save(tmp_path / "index")
    loaded = SearchIndex.load(saved, hashing_encoder)
    only_d2 = Filters.of(allow=lambda meta: meta["path"] == "d2")  # the VPN guide
    all_but_d2 = Filters.of(allow=lambda meta: meta["path"] != "d2")
    for method in ("bm25", "hybrid"):
        results = loaded.search("vpn error 809", k=5, method=method, filters=only_d2)
        assert [r.doc_id for r in results] == ["d2"]
        results = loaded.search("vpn error 809", k=5, method=method, filters=all_but_d2)
        assert "d2" not in {r.doc_id for r in results}


def test_approximate_index_above_threshold(tiny_docs, hashing_encoder, index):
    hnsw = SearchIndex.build(tiny_docs, CONFIG.replace(approximate_above=3), hashing_encoder)
    assert hnsw.dense.kind == "ivf_sq8_ip" and index.dense.kind == "flat_ip"
    for query in ("battery pack charge", "vpn error 809", "password manager"):
        exact = index.run({"q": query}, k=3, method="dense")
        approx = hnsw.run({"q": query}, k=3, method="dense")
        assert list(approx["q"]) == list(exact["q"])
