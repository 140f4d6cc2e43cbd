"""The Milvus index backend against Milvus Lite (each module its own database file): the same
retrieval as the FAISS backend on the tiny set and the sample corpus, filters and access inside
Milvus, a version reopened by a fresh process, nothing copied when a version is derived, and
the ways Milvus Lite differs from a Milvus server."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from evaluation.beir import load_labeled_set
from evaluation.runner import evaluate_index
from search.config import IndexConfig
from search.index import DENSE, MANIFEST, IndexLoadError, SearchIndex
from search.ingest import load_folder
from search.retrieval import Filters
from search.retrieval.milvus import connection
from search.retrieval.milvus.dense import MilvusDenseIndex
from search.retrieval.milvus.sparse import MilvusSparseIndex
from search.settings import PROJECT_ROOT, SAMPLE_SET

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)
QUERIES = {
    "q1": "vpn error 809",
    "q2": "parental leave weeks",
    "q3": "password length",
    "q4": "battery pack charge",
    "q5": "nothing matches zyxwv",
}


def _same(got: dict, want: dict) -> None:
    """Two runs rank the same documents in the same order with the same scores."""
    assert {q: list(r) for q, r in got.items()} == {q: list(r) for q, r in want.items()}
    for qid, ranked in want.items():
        assert list(got[qid].values()) == pytest.approx(list(ranked.values()), abs=1e-5)


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory):
    uri = str(tmp_path_factory.mktemp("milvus") / "milvus.db")
    yield uri
    connection.close_all()


@pytest.fixture(scope="module")
def pair(milvus_uri):
    """beir_tiny built on each backend, once for the module: (faiss index, milvus index)."""
    from search.encoding import HashingEncoder
    from search.ingest import load_beir_corpus
    from tests.conftest import BEIR_TINY

    docs = load_beir_corpus(BEIR_TINY / "corpus.jsonl")
    encoder = HashingEncoder(dim=128)
    milvus = CONFIG.replace(index_backend="milvus", milvus_uri=milvus_uri)
    return SearchIndex.build(docs, CONFIG, encoder), SearchIndex.build(docs, milvus, encoder)


@pytest.mark.parametrize("method", ["bm25", "dense", "hybrid"])
def test_each_method_finds_the_answer_as_faiss_does(pair, method):
    faiss, milvus = pair
    assert isinstance(milvus.dense, MilvusDenseIndex)
    assert isinstance(milvus.sparse, MilvusSparseIndex)
    results = milvus.search("vpn error 809", k=3, method=method)
    assert results[0].doc_id == "d2"
    # the same documents in the same order, with the same scores
    _same(milvus.run(QUERIES, k=6, method=method), faiss.run(QUERIES, k=6, method=method))


def test_bm25_scores_are_bm25s_scores_and_the_vocabulary_is_shared(pair):
    faiss, milvus = pair
    texts = list(QUERIES.values())
    want_scores, want_rows = faiss.sparse.search(texts, 6)
    got_scores, got_rows = milvus.sparse.search(texts, 6)
    np.testing.assert_array_equal(got_rows, want_rows)
    np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)
    for text in texts:
        assert milvus.sparse.query_weight(text) == pytest.approx(faiss.sparse.query_weight(text))
        assert milvus.sparse.terms(text) == faiss.sparse.terms(text)
    assert len(milvus.sparse) == len(faiss.sparse) == 6


def test_filters_and_access_restrict_inside_milvus(pair):
    faiss, milvus = pair
    only_d3 = Filters.of(allow=lambda meta: meta["path"] == "d3")
    for method in ("bm25", "dense", "hybrid"):
        found = milvus.search("vpn error 809", k=5, method=method, filters=only_d3)
        assert {r.doc_id for r in found} <= {"d3"}
    assert milvus.search("vpn", filters=Filters.of(formats=["pdf"])) == []
    readers = {"d1": ["group:hr"], "d2": ["everyone"], "d3": ["user:alice"], "d4": ["everyone"]}
    guarded = milvus.with_access(readers, "policy-1")
    assert guarded.dense is milvus.dense and guarded.sparse is milvus.sparse  # nothing copied
    for method in ("bm25", "dense", "hybrid"):
        seen = guarded.run(QUERIES, k=6, method=method, filters=Filters.of(principals={"everyone"}))
        assert set().union(*map(set, seen.values())) <= {"d2", "d4"}
        alice = Filters.of(principals={"everyone", "user:alice"})
        want = faiss.with_access(readers, "policy-1").run(
            QUERIES, k=6, method=method, filters=alice
        )
        _same(guarded.run(QUERIES, k=6, method=method, filters=alice), want)


def test_row_masks_become_filters_on_the_row_key(pair):
    mask = np.array([True, False, True, True])
    assert connection.row_filter(mask, 4) == "not (row in [1])"
    assert connection.row_filter(np.array([2]), 4) == "row in [2]"
    assert connection.row_filter(np.ones(4, dtype=bool), 4) == ""
    assert connection.row_filter(np.zeros(4, dtype=bool), 4) is None
    assert connection.row_filter(np.arange(3, 1000), 1000) == "not (row in [0,1,2])"
    folder = np.zeros(2000, dtype=bool)  # a folder's documents (a run), a few others
    folder[[5, 7]] = True
    folder[300:900] = True
    assert connection.row_filter(folder, 2000) == "(row >= 300 and row <= 899) or row in [5,7]"
    assert connection.row_filter(~folder, 2000) == (
        "not ((row >= 300 and row <= 899) or row in [5,7])"
    )
    faiss, milvus = pair  # every shape of filter selects in Milvus what it selects in FAISS
    queries = milvus.encoder.encode_queries(list(QUERIES.values()))
    rng = np.random.default_rng(7)
    for allowed in [rng.random(len(milvus.dense)) < share for share in (0.2, 0.5, 0.8)]:
        got_scores, got_rows = milvus.dense.search(queries, 4, allowed)
        want_scores, want_rows = faiss.dense.search(queries, 4, allowed)
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)  # equal scores: any order
        assert [set(r) for r in got_rows] == [set(r) for r in want_rows]
        assert all(allowed[r] for r in got_rows.ravel() if r >= 0)


def test_a_saved_version_names_its_collections_and_a_fresh_process_reopens_it(pair, tmp_path):
    _, milvus = pair
    folder = milvus.save(tmp_path / "v1")
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["dense_index"] == "milvus_flat"
    assert manifest["config"]["index_backend"] == "milvus"
    reference = json.loads((folder / DENSE).read_text())["milvus"]
    assert reference["collection"] == milvus.dense.collection.name
    assert manifest["build"]["dense"]["collection"] == reference["collection"]
    want = milvus.run(QUERIES, k=6)
    connection.close_all()  # Milvus Lite: one process holds the file at a time
    script = (
        "import json, sys\n"
        "from search.encoding import HashingEncoder\n"
        "from search.index import SearchIndex\n"
        "index = SearchIndex.load(sys.argv[1], HashingEncoder(dim=128))\n"
        "print(json.dumps(index.run(json.loads(sys.argv[2]), k=6)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder), json.dumps(QUERIES)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert {q: list(r) for q, r in got.items()} == {q: list(r) for q, r in want.items()}
    loaded = SearchIndex.load(folder, milvus.encoder)  # and again here, after the other process
    _same(loaded.run(QUERIES, k=6), want)


def test_a_version_whose_collection_is_gone_is_refused(pair, tmp_path, milvus_uri):
    from search.encoding import HashingEncoder
    from search.ingest import Document

    docs = [Document(f"x{i}", f"title {i}", f"body text number {i}", {}) for i in range(3)]
    config = CONFIG.replace(index_backend="milvus", milvus_uri=milvus_uri)
    index = SearchIndex.build(docs, config, HashingEncoder(dim=128))
    folder = index.save(tmp_path / "gone")
    connection.client(milvus_uri).drop_collection(index.dense.collection.name)
    with pytest.raises(IndexLoadError, match="is missing"):
        SearchIndex.load(folder, index.encoder)


def test_hnsw_above_the_threshold_ranks_as_exact(pair, milvus_uri):
    from search.encoding import HashingEncoder
    from search.ingest import load_beir_corpus
    from tests.conftest import BEIR_TINY

    _, exact = pair
    config = CONFIG.replace(index_backend="milvus", milvus_uri=milvus_uri, approximate_above=3)
    docs = load_beir_corpus(BEIR_TINY / "corpus.jsonl")
    hnsw = SearchIndex.build(docs, config, HashingEncoder(dim=128))
    assert hnsw.dense.kind == "milvus_hnsw" and hnsw.dense.describe()["M"] == 32
    for query in ("battery pack charge", "vpn error 809", "password manager"):
        want = exact.run({"q": query}, k=3, method="dense")
        assert list(hnsw.run({"q": query}, k=3, method="dense")["q"]) == list(want["q"])
    vectors = hnsw.dense.vectors()
    np.testing.assert_allclose(vectors, exact.dense.vectors(), atol=1e-6)


def test_the_sample_corpus_ranks_as_on_faiss(milvus_uri):
    """The sample's labeled queries (hashing encoder: fast): the same metrics per method."""
    from search.encoding import HashingEncoder

    docs = load_folder(SAMPLE_SET / "docs").documents
    labeled = load_labeled_set(SAMPLE_SET, "test", with_documents=False)
    config = IndexConfig(model="hashing-128")
    encoder = HashingEncoder(dim=128)
    faiss = SearchIndex.build(docs, config, encoder)
    milvus = SearchIndex.build(
        docs, config.replace(index_backend="milvus", milvus_uri=milvus_uri), encoder
    )
    for method in ("bm25", "dense", "hybrid"):
        want = evaluate_index(faiss, labeled, method).mean
        got = evaluate_index(milvus, labeled, method).mean
        assert got == pytest.approx(want, abs=1e-9), method


def test_milvus_lite_differs_from_a_server_as_the_backend_expects(tmp_path):
    """Negated BM25 distances; build parameters read from ``params`` only; a collection
    reopened by another process is released until loaded."""
    uri = str(tmp_path / "lite.db")
    index = MilvusSparseIndex.build(
        ["cat dog dog", "cat fish", "bird", "dog bird bird bird"], k1=1.2, uri=uri, prefix="t"
    )
    name = index.collection.name
    raw = connection.client(uri).search(
        name, data=["dog bird"], anns_field="sparse", limit=4, output_fields=["row"]
    )[0]
    assert all(hit["distance"] < 0 for hit in raw)  # a server returns the positive scores
    described = connection.client(uri).describe_index(name, "sparse")
    assert described["params"] == {"bm25_b": 0.75, "bm25_k1": 1.2}  # not Lite's default 1.5
    connection.close_all()
    script = (
        "import sys\n"
        "from pymilvus import MilvusClient\n"
        "c = MilvusClient(sys.argv[1])\n"
        "print(c.get_load_state(sys.argv[2])['state'].name)\n"
        "try:\n"
        "    c.search(sys.argv[2], data=['dog'], anns_field='sparse', limit=1)\n"
        "except Exception as exc:\n"
        "    print('refused', 'load' in str(exc))\n"
        "c.load_collection(sys.argv[2])\n"
        "print(len(c.search(sys.argv[2], data=['dog'], anns_field='sparse', limit=1)[0]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, uri, name], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["NotLoad", "refused", "True", "1"], done.stderr[-2000:]
