"""An index folder written and read back; a corrupt or mismatched one refused."""

import json

import pytest

from search.config import IndexConfig
from search.index import DENSE, MANIFEST, IndexLoadError, SearchIndex

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


def test_save_load_round_trip(index, hashing_encoder, tmp_path):
    index.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / MANIFEST).read_text())
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
    with open(folder / DENSE, "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\xff\x00\xff")
    with pytest.raises(IndexLoadError, match="checksum of dense.faiss"):
        SearchIndex.load(folder, index.encoder)
    with pytest.raises(IndexLoadError, match="manifest.json is missing"):
        SearchIndex.load(tmp_path / "nothing-here")


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
    recorded = json.loads((folder / MANIFEST).read_text())["model"]
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
