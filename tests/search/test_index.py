import json

import numpy as np
import pytest

from search.config import IndexConfig
from search.encoding import EmbeddingCache
from search.index import IndexLoadError, IndexStore, SearchIndex
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


def test_save_load_round_trip(index, hashing_encoder, tmp_path):
    index.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["counts"] == {"documents": 6, "chunks": 6}
    assert manifest["dense_index"] == "flat_ip"
    assert manifest["model"]["fingerprint"] == hashing_encoder.fingerprint
    loaded = SearchIndex.load(tmp_path / "idx", hashing_encoder)
    assert loaded.run({"q": "password length"}, k=6) == index.run({"q": "password length"}, k=6)


def test_corrupt_or_mismatched_index_refuses_to_load(index, tmp_path):
    from search.encoding import HashingEncoder

    folder = index.save(tmp_path / "idx")
    with pytest.raises(IndexLoadError, match="built with encoder"):
        SearchIndex.load(folder, HashingEncoder(dim=64))
    with open(folder / "dense.faiss", "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\xff\x00\xff")
    with pytest.raises(IndexLoadError, match="checksum of dense.faiss"):
        SearchIndex.load(folder, index.encoder)
    with pytest.raises(IndexLoadError, match="manifest.json is missing"):
        SearchIndex.load(tmp_path / "nothing-here")


def test_approximate_index_above_threshold(tiny_docs, hashing_encoder, index):
    hnsw = SearchIndex.build(tiny_docs, CONFIG.replace(approximate_above=3), hashing_encoder)
    assert hnsw.dense.kind == "hnsw_ip" and index.dense.kind == "flat_ip"
    for query in ("battery pack charge", "vpn error 809", "password manager"):
        exact = index.run({"q": query}, k=3, method="dense")
        approx = hnsw.run({"q": query}, k=3, method="dense")
        assert list(approx["q"]) == list(exact["q"])


def test_cache_means_unchanged_text_is_not_encoded_twice(tiny_docs, hashing_encoder, tmp_path):
    from search.ingest import Document

    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first = SearchIndex.build(tiny_docs, CONFIG, hashing_encoder, cache)
    assert (first.build_stats.chunks_embedded, first.build_stats.chunks_reused) == (6, 0)
    changed = list(tiny_docs)
    changed[0] = Document("d1", "Parental leave policy", "Now twenty weeks.", changed[0].metadata)
    second = SearchIndex.build(changed, CONFIG, hashing_encoder, cache)
    assert (second.build_stats.chunks_embedded, second.build_stats.chunks_reused) == (1, 5)
    assert np.allclose(second.dense.vectors()[1:], first.dense.vectors()[1:])


def test_store_versions_switch_atomically(index, tmp_path, hashing_encoder):
    store = IndexStore(tmp_path / "store")
    v1 = store.write(index)
    assert store.current() == v1
    v2 = store.write(index, activate=False)
    assert store.current() == v1 and store.versions() == [v1, v2]
    store.activate(v2)
    assert store.load(encoder=hashing_encoder).manifest["counts"]["chunks"] == 6
    with pytest.raises(ValueError, match="in use"):
        store.remove(v2)


def test_failed_save_keeps_the_current_version(index, tmp_path, monkeypatch):
    store = IndexStore(tmp_path / "store")
    v1 = store.write(index)

    def boom(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(index.dense, "save", boom)
    with pytest.raises(OSError):
        store.write(index)
    assert store.current() == v1 and store.versions() == [v1]


def test_a_query_tuned_encoder_shares_the_passage_vectors(index, hashing_encoder, tmp_path):
    from search.encoding import HashingEncoder, QueryTunedEncoder

    class OtherQuerySide(HashingEncoder):
        def encode_queries(self, texts):
            return self.encode([f"{t} vpn" for t in texts])

    # same passage weights, other query weights: what query-side fine-tuning produces
    tuned = QueryTunedEncoder("tuned", hashing_encoder, OtherQuerySide(dim=128, seed="tuned"))
    challenger = index.with_encoder(tuned)
    assert challenger.dense is index.dense and challenger.build_stats.chunks_embedded == 0
    assert challenger.config.model == "tuned"
    query = "minimum password length"
    assert challenger.run({"q": query}, method="dense") != index.run({"q": query}, method="dense")
    folder = challenger.save(tmp_path / "tuned")
    recorded = json.loads((folder / "manifest.json").read_text())["model"]
    assert recorded["fingerprint"] == hashing_encoder.fingerprint
    assert recorded["query_fingerprint"] == tuned.queries.fingerprint
    assert SearchIndex.load(folder, tuned).run({"q": query}) == challenger.run({"q": query})
    # the base encoder has the right passage weights but the wrong query side: refused
    with pytest.raises(IndexLoadError, match="query fingerprint"):
        SearchIndex.load(folder, hashing_encoder)


def test_a_query_encoder_refuses_a_changed_document_model(tmp_path):
    from search.encoding import QUERY_ENCODER_FILE, load_encoder

    folder = tmp_path / "query-encoder"
    folder.mkdir()
    pairing = {"document_model": "hashing-64", "document_fingerprint": "not-these-weights"}
    (folder / QUERY_ENCODER_FILE).write_text(json.dumps(pairing))
    with pytest.raises(RuntimeError, match="trained against passages encoded by hashing-64"):
        load_encoder(str(folder))
