"""make bench-scale at a small N: every figure, from the product's own build, load and search."""

import json

import pytest

from evaluation import bench_scale
from search.index import read_manifest

KEYS = {
    "n_chunks", "build_s", "index_bytes", "load_s", "rss_mb", "hybrid_p50_ms", "hybrid_p95_ms",
    "filtered_p95_ms", "dense_recall_at_10",
}  # fmt: skip


@pytest.mark.slow
def test_a_small_run_prints_every_figure(tmp_path, capsys):
    folder = tmp_path / "index"
    assert (
        bench_scale.main(
            ["--chunks", "20000", "--approximate-above", "5000", "--folder", str(folder)]
        )
        == 0
    )
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert KEYS <= set(figures)
    assert figures["n_chunks"] == 20000 and figures["n_documents"] == 5000
    assert figures["dense_index"]["kind"] == "hnsw_sq8_ip"  # above the threshold given
    assert figures["dense_recall_at_10"] >= 0.9
    assert 0 < figures["index_bytes"] and 0 < figures["rss_mb"]
    assert 0 < figures["hybrid_p50_ms"] <= figures["hybrid_p95_ms"]
    manifest = read_manifest(folder)
    assert manifest["build"]["dense"] == figures["dense_index"]  # the choice is recorded


def test_the_stand_in_encoder_puts_a_query_near_the_document_it_names(tmp_path):
    documents, chunks, vectors, encoder = bench_scale.collection(2000)
    assert len(chunks) == 2000 and len(documents) == 500
    assert [c.doc_id for c in chunks[:4]] == [documents[0].id] * 4
    text = bench_scale.queries(1, 2000, seed=5)[0]
    doc = int(text.split()[2][1:])
    nearest = (vectors @ encoder.encode_queries([text])[0]).argsort()[::-1][:4]
    assert {chunks[r].doc_id for r in nearest} == {documents[doc].id}


def test_bad_input_is_one_line_and_exit_code_2(capsys):
    assert bench_scale.main(["--chunks", "1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.slow
def test_the_milvus_backend_prints_the_same_figures(tmp_path, capsys):
    """``make bench-scale BACKEND=milvus``: the same keys as on FAISS, from collections in a
    Milvus Lite file (its bytes counted), served by a fresh process."""
    runs = {}
    for backend in ("faiss", "milvus"):
        folder = tmp_path / backend
        assert (
            bench_scale.main(["--chunks", "400", "--backend", backend, "--folder", str(folder)])
            == 0
        )
        runs[backend] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(runs["milvus"]) == set(runs["faiss"]) and KEYS <= set(runs["milvus"])
    assert runs["milvus"]["index_backend"] == "milvus"
    assert runs["milvus"]["dense_index"]["kind"] == "milvus_flat"
    assert runs["milvus"]["dense_recall_at_10"] == runs["faiss"]["dense_recall_at_10"] == 1.0
    assert runs["milvus"]["index_bytes"] > runs["faiss"]["index_bytes"] / 2  # the Lite file
