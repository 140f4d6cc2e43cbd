"""The public collections kept as original files, written out in BEIR layout, and every
labeled set's two parts."""

from __future__ import annotations

import json

import pytest

from evaluation.beir import load_labeled_set
from evaluation.collections import COLLECTIONS, beir_collection
from evaluation.parts import labeled_parts
from evaluation.splits import REPORT, TUNE
from search.settings import Settings

# documents, judged queries, judgements: as data/collections/README.md states them
SIZES = {"medline": (1033, 30, 696), "lisa": (6004, 32, 339), "vaswani": (11429, 93, 2083)}


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("home"))


@pytest.mark.parametrize("name", COLLECTIONS)
def test_each_collection_in_beir_layout_as_its_readme_counts_it(settings, name):
    root = beir_collection(name, settings)
    labeled = load_labeled_set(root, "test")
    documents, queries, judgements = SIZES[name]
    assert len(labeled.documents) == documents and len(labeled.queries) == queries
    assert sum(len(r) for r in labeled.qrels.values()) == judgements
    assert all(d.text or d.title for d in labeled.documents)
    assert beir_collection(name, settings) == root  # written once, then reused
    parts = labeled_parts(root)  # no split of its own: dealt by query id
    assert set(parts[TUNE].queries).isdisjoint(parts[REPORT].queries)
    assert len(parts[TUNE].queries) + len(parts[REPORT].queries) == queries


def test_the_damaged_lisa_judgements_are_left_out(settings):
    qrels = load_labeled_set(beir_collection("lisa", settings), "test").qrels
    # query 21's list breaks off into another's; 22 and 23 have none
    assert {"21", "22", "23"}.isdisjoint(qrels)
    assert qrels["35"] == {d: 1 for d in "738 1217 2246 2284 2772 3276 3799".split()}


def test_a_set_with_its_own_split_keeps_it(tmp_path):
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "text": "x"}) + "\n")
    (tmp_path / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": q}) + "\n" for q in ("a", "b", "c"))
    )
    (tmp_path / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\na\td1\t1\n")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nb\td1\t1\nc\td1\t1\n")
    parts = labeled_parts(tmp_path)
    assert list(parts[TUNE].queries) == ["a"] and list(parts[REPORT].queries) == ["b", "c"]
