"""Index folders written before the index was split into modules still load and answer alike."""

import json
from pathlib import Path

import pytest

from search.config import IndexConfig
from search.encoding import HashingEncoder
from search.index import FORMAT_VERSION, MANIFEST, IndexStore, SearchIndex, read_manifest

OLD = Path(__file__).parents[2] / "fixtures" / "index_v1"  # written at 7be8d95, see its README
CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


def test_a_folder_written_by_the_old_code_loads_and_answers_as_it_did():
    expected = json.loads((OLD / "expected_runs.json").read_text())
    index = SearchIndex.load(OLD / "index", HashingEncoder(dim=128))
    assert index.manifest["format_version"] == FORMAT_VERSION == 1
    assert len(index.documents) == 6 and len(index.chunks) == 6
    for method, run in expected["runs"].items():
        got = index.run(expected["queries"], k=6, method=method)
        assert list(got) == list(run)
        for qid in run:
            assert list(got[qid]) == list(run[qid])  # same documents in the same order
            assert list(got[qid].values()) == pytest.approx(list(run[qid].values()))


def test_the_new_code_writes_the_same_files(tiny_docs, hashing_encoder, tmp_path):
    # BM25's files under sparse/ list the vocabulary in set order, which changes between Python
    # processes, so only the files written in a fixed order are compared byte for byte;
    # documents.jsonl holds each document's "modified" time, which is the fixture file's time
    # in this checkout, so it is compared without it
    old = read_manifest(OLD / "index")
    new = SearchIndex.build(tiny_docs, CONFIG, hashing_encoder).save(tmp_path / "idx")
    new_manifest = json.loads((new / MANIFEST).read_text())
    for name in ("chunks.jsonl", "dense.faiss", "sparse/params.index.json"):
        assert new_manifest["files"][name] == old["files"][name], name
    assert _documents_without_times(new) == _documents_without_times(OLD / "index")
    # rows/ (the arrays a loaded index reads chunks and documents through) comes beside them
    added = set(new_manifest["files"]) - set(old["files"])
    assert set(old["files"]) <= set(new_manifest["files"])
    assert added and all(name.startswith("rows/") for name in added)
    same_keys = ("format_version", "config_fingerprint", "counts")
    assert {k: new_manifest[k] for k in same_keys} == {k: old[k] for k in same_keys}
    # fields added since (the encoder backend and its identity) come beside the old ones
    # (the default fusion, a query-time field, changed from weighted to zscore since)
    new_config = {k: v for k, v in new_manifest["config"].items() if k != "fusion"}
    assert new_config | {k: v for k, v in old["config"].items() if k != "fusion"} == new_config
    assert new_manifest["model"] | old["model"] == new_manifest["model"]
    assert new_manifest["corpus_fingerprint"] == old["corpus_fingerprint"]


def test_an_old_version_is_found_reusable_by_a_new_build(tiny_docs, hashing_encoder, tmp_path):
    import shutil

    from search.index import corpus_fingerprint

    store = IndexStore(tmp_path / "store")
    shutil.copytree(OLD / "index", store.path("20200101T000000000000Z"))
    found = store.find_reusable(corpus_fingerprint(tiny_docs), CONFIG, hashing_encoder)
    assert found == "20200101T000000000000Z"


def _documents_without_times(folder: Path) -> list[dict]:
    rows = [json.loads(line) for line in (folder / "documents.jsonl").read_text().splitlines()]
    for row in rows:
        row["metadata"].pop("modified")
    return rows
