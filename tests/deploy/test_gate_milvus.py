"""`make gate` on the Milvus backend (Milvus Lite): the sample build on Milvus reaches the same
figures as on FAISS, passes against the baseline FAISS recorded, and a regression fails it."""

from __future__ import annotations

import json

from app.cli import main
from lifecycle.baseline import run_gate
from lifecycle.gate import GatePolicy
from search.retrieval.milvus import connection
from search.settings import Settings


def _settings(home, labeled, backend: str, uri: str) -> Settings:
    return Settings.from_profile(
        "dev",
        home=str(home),
        docs=str(labeled / "docs"),
        sample_set=str(labeled),
        model="hashing-128",
        index_backend=backend,
        milvus_uri=uri,
    )


def test_the_gate_passes_on_milvus_as_on_faiss(home, labeled_folder, tmp_path):
    uri, baseline = str(tmp_path / "milvus.db"), tmp_path / "baseline.json"
    try:
        faiss = run_gate(
            _settings(home, labeled_folder, "faiss", uri), GatePolicy(), baseline, True
        )
        milvus = _settings(home, labeled_folder, "milvus", uri)
        assert milvus.index_config().index_backend == "milvus"
        on_milvus = run_gate(milvus, GatePolicy(), baseline)
        assert faiss.recorded and on_milvus.passed and on_milvus.metrics == faiss.metrics
        assert connection.client(uri).list_collections() == []  # the build was thrown away
        (labeled_folder / "docs" / "d2.txt").unlink()  # q2's only relevant document is gone
        assert not run_gate(milvus, GatePolicy(), baseline).passed
    finally:
        connection.close_all()


def test_the_cli_gate_runs_on_milvus(home, labeled_folder, tmp_path, monkeypatch, capsys):
    for name, value in {
        "DOCSEARCH_DOCS": labeled_folder / "docs",
        "DOCSEARCH_SAMPLE_SET": labeled_folder,
        "DOCSEARCH_MODEL": "hashing-128",
        "DOCSEARCH_INDEX_BACKEND": "milvus",
        "DOCSEARCH_MILVUS_URI": tmp_path / "milvus.db",
    }.items():
        monkeypatch.setenv(name, str(value))
    try:
        assert main(["gate", "--baseline", str(tmp_path / "b.json"), "--floor", "0.5"]) == 0
    finally:
        connection.close_all()
    out = json.loads(capsys.readouterr().out)
    assert out["passed"] and out["metrics"]["sample/ndcg_at_10"] == 1.0
    assert (tmp_path / "milvus.db").exists()  # the collections went to the configured file
