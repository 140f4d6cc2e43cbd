"""A BEIR collection where half the documents are title-only records (empty ``text``): each is
found by its title in every method, shown with its title as snippet, saved and loaded back."""

from __future__ import annotations

import json

import pytest

from search.config import IndexConfig, Method
from search.index import IndexStore, SearchIndex
from search.ingest import load_beir_corpus
from search.retrieval import ChoiceMemory

RECORDS = [
    ("full1", "Parental leave policy", "Employees receive sixteen weeks of paid leave."),
    ("bare1", "Quarterly aquarium maintenance schedule", ""),
    ("full2", "VPN setup on Windows", "Install the WireGuard client and connect."),
    ("bare2", "Zeppelin hangar safety checklist", ""),
    ("full3", "Expense reimbursement", "Submit receipts within thirty days."),
    ("bare3", "Volcanic ash filter replacement", ""),
]


@pytest.fixture
def title_only_index(tmp_path, hashing_encoder) -> SearchIndex:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in RECORDS)
    )
    documents = load_beir_corpus(corpus)
    config = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)
    built = SearchIndex.build(documents, config, hashing_encoder)
    store = IndexStore(tmp_path / "store")
    return store.load(store.write(built), hashing_encoder)  # through the disk, as served


def test_every_document_has_a_chunk(title_only_index):
    assert {c.doc_id for c in title_only_index.chunks} == {r[0] for r in RECORDS}
    assert [c.text for c in title_only_index.chunks_of("bare2")] == [
        "Zeppelin hangar safety checklist"
    ]
    assert title_only_index.document_text("bare1") == "Quarterly aquarium maintenance schedule"


@pytest.mark.parametrize("method", [Method.BM25, Method.DENSE, Method.HYBRID])
@pytest.mark.parametrize(
    ("query", "expected"),
    [("zeppelin hangar", "bare2"), ("aquarium maintenance", "bare1"), ("volcanic ash", "bare3")],
)
def test_title_only_document_is_found_by_its_title(title_only_index, method, query, expected):
    results = title_only_index.search(query, k=6, method=method)
    assert results[0].doc_id == expected
    top = results[0]
    assert top.chunk_id == f"{expected}#0"
    assert query.split()[0] in top.title.lower()
    assert query.split()[0] in top.snippet.text.lower()


@pytest.mark.parametrize("method", [Method.BM25, Method.DENSE, Method.HYBRID])
def test_every_document_can_be_shown(title_only_index, method):
    """A query ranking every document (title-only ones included) gives a result for each."""
    results = title_only_index.search(
        "leave vpn expense aquarium zeppelin volcanic", k=6, method=method
    )
    assert {r.doc_id for r in results} == {r[0] for r in RECORDS}
    assert all(r.chunk_id.startswith(f"{r.doc_id}#") for r in results)


def test_a_memory_rebuild_indexes_a_title_once(title_only_index, hashing_encoder):
    """BM25 rebuilt with a memory (from the loaded index's chunks, where a title-only
    record's one chunk is its title) scores every document as the build did: the title is
    not counted a second time as body text. The memory adds no words (one person's choice)."""
    memory = ChoiceMemory.build({"paid leave": ["full1"]}, hashing_encoder)
    remembered = title_only_index.with_memory(memory)
    assert remembered.sparse is not title_only_index.sparse  # BM25 was rebuilt
    for query in ("zeppelin hangar", "parental leave", "volcanic ash filter"):
        before = title_only_index.search(query, k=6, method=Method.BM25)
        after = remembered.search(query, k=6, method=Method.BM25)
        assert [(r.doc_id, r.bm25_score) for r in after] == [
            (r.doc_id, pytest.approx(r.bm25_score)) for r in before
        ]
