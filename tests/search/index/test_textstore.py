"""A saved index reads its chunks and documents from disk on demand and answers as built."""

import pickle

import numpy as np
import pytest

from search.config import IndexConfig
from search.index import SearchIndex, read_manifest
from search.index.textstore import ROWS, StoredChunks, StoredDocuments
from search.ingest import Document
from search.retrieval import Filters

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


@pytest.fixture
def saved(index, hashing_encoder, tmp_path):
    index.save(tmp_path / "idx")
    return SearchIndex.load(tmp_path / "idx", hashing_encoder)


def test_loaded_rows_are_read_on_demand_and_equal_the_built_ones(index, saved):
    assert isinstance(saved.chunks, StoredChunks) and isinstance(saved.documents, StoredDocuments)
    assert list(saved.chunks) == list(index.chunks)
    assert [c.metadata for c in saved.chunks] == [c.metadata for c in index.chunks]
    assert saved.chunks[1:3] == index.chunks[1:3] and saved.chunks[-1] == index.chunks[-1]
    assert dict(saved.documents) == dict(index.documents)
    assert list(saved.doc_ids) == list(index.doc_ids) and saved.doc_ids[::2] == index.doc_ids[::2]
    assert np.array_equal(saved.chunk_doc_rows, index.chunk_doc_rows)
    for doc_id in index.doc_ids:
        assert saved.row_of(doc_id) == index.row_of(doc_id)
        assert saved.rows_of(doc_id) == index.rows_of(doc_id)
        assert saved.document_text(doc_id) == index.document_text(doc_id)
    assert saved.row_of("no-such-doc") is None and saved.rows_of("no-such-doc") == []
    assert "no-such-doc" not in saved.documents
    with pytest.raises(KeyError):
        saved.documents["no-such-doc"]
    with pytest.raises(IndexError):
        saved.chunks[len(index.chunks)]


@pytest.mark.parametrize("method", ["bm25", "dense", "hybrid"])
def test_a_loaded_index_answers_as_the_built_one(index, saved, method):
    queries = {"a": "vpn error 809", "b": "battery pack charge", "c": "password manager"}
    only = Filters.of(path_prefix=index.documents[index.doc_ids[0]]["metadata"]["path"][:1])
    for filters in (None, only, Filters.of(formats=["pdf"])):
        built = index.search_many(queries, k=5, method=method, filters=filters)
        loaded = saved.search_many(queries, k=5, method=method, filters=filters)
        assert loaded == built


def test_rows_are_listed_in_the_manifest_and_checksummed(saved, tmp_path):
    files = read_manifest(tmp_path / "idx")["files"]
    assert f"{ROWS}/chunk_lines.npy" in files and f"{ROWS}/columns/format_codes.npy" in files


def test_a_loaded_index_pickles(saved):
    again = pickle.loads(pickle.dumps(saved.chunks))
    assert list(again) == list(saved.chunks)


def test_ids_with_shared_hash_prefixes_and_unicode_are_found(hashing_encoder, tmp_path):
    docs = [
        Document(f"d/ü{i}", f"T{i}", f"text number {i} about things", {"path": f"d/ü{i}"})
        for i in range(300)
    ]
    SearchIndex.build(docs, CONFIG, hashing_encoder).save(tmp_path / "u")
    saved = SearchIndex.load(tmp_path / "u", hashing_encoder)
    assert [saved.row_of(d.id) for d in docs] == list(range(300))
    assert saved.documents["d/ü7"]["title"] == "T7"
