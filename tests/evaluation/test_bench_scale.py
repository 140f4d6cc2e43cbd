"""make bench-scale at a small N: every figure, from the product's own build, load and search."""

import json

import numpy as np
import pytest

from evaluation import bench_scale, real_vectors
from search.index import read_manifest

KEYS = {
    "n_chunks", "build_s", "index_bytes", "load_s", "rss_mb", "hybrid_p50_ms", "hybrid_p95_ms",
    "filtered_p95_ms", "dense_recall_at_10",
}  # fmt: skip


def _real(n: int, queries: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Stand-ins for encoded real chunks and queries: unit vectors, the queries near chunks."""
    rng = np.random.default_rng(seed)
    chunks = rng.standard_normal((n, bench_scale.DIM)).astype(np.float32)
    asked = chunks[:queries] + 0.1 * rng.standard_normal((queries, bench_scale.DIM))
    unit = lambda x: (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    return unit(chunks), unit(asked)


@pytest.mark.slow
def test_a_small_run_prints_every_figure(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "index"
    (tmp_path / "corpus.jsonl").write_text("")
    monkeypatch.setattr(real_vectors, "load", lambda dataset, cache: _real(300, 50))
    argv = ["--chunks", "20000", "--approximate-above", "5000", "--folder", str(folder)]
    assert bench_scale.main(argv + ["--real-dataset", str(tmp_path)]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert KEYS <= set(figures)
    assert figures["n_chunks"] == 20000 and figures["n_documents"] == 5000
    assert figures["dense_index"]["kind"] == "ivf_sq8_ip"  # above the threshold given
    assert figures["dense_recall_at_10"] >= 0.9 and figures["real_vectors"] == 300
    assert figures["real_vectors_recall_at_10"] >= 0.9  # the real queries' own recall
    assert figures["dense_recall_at_10_at_build"] == figures["dense_index"]["recall_at_10"]
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


def test_real_vectors_replace_synthetic_ones_evenly_spaced():
    real, _ = _real(5, 1)
    _, _, vectors, _ = bench_scale.collection(2000, real=real)
    # rows 0, 499, 999, 1499, 1999 (linspace over 2,000 rows)
    assert np.array_equal(vectors[[0, 499, 999, 1499, 1999]], real)
    assert not np.isin(vectors[1], real).all()


def test_real_vectors_are_encoded_once_then_read_back(tmp_path, monkeypatch):
    dataset = tmp_path / "set"
    dataset.mkdir()
    for name in ("corpus.jsonl", "queries.jsonl"):
        (dataset / name).write_text('{"_id": "1", "text": "x"}\n')
    calls = []
    monkeypatch.setattr(real_vectors, "encode", lambda d, c: calls.append(d) or _real(4, 2))
    first = real_vectors.load(dataset, tmp_path / "cache")
    again = real_vectors.load(dataset, tmp_path / "cache")
    assert len(calls) == 1 and all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert [a.shape for a in again] == [(4, 384), (2, 384)]


def test_bad_input_is_one_line_and_exit_code_2(capsys, tmp_path):
    assert bench_scale.main(["--chunks", "1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert bench_scale.main(["--chunks", "100", "--real-dataset", str(tmp_path)]) == 2
    assert "give --real-dataset or --no-real" in capsys.readouterr().err


@pytest.mark.slow
def test_the_milvus_backend_prints_the_same_figures(tmp_path, capsys):
    """``make bench-scale BACKEND=milvus``: the same keys as on FAISS, from collections in a
    Milvus Lite file (its bytes counted), served by a fresh process."""
    runs = {}
    for backend in ("faiss", "milvus"):
        folder = tmp_path / backend
        assert (
            bench_scale.main(
                ["--chunks", "400", "--backend", backend, "--folder", str(folder), "--no-real"]
            )
            == 0
        )
        runs[backend] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(runs["milvus"]) == set(runs["faiss"]) and KEYS <= set(runs["milvus"])
    assert runs["milvus"]["index_backend"] == "milvus"
    assert runs["milvus"]["dense_index"]["kind"] == "milvus_flat"
    assert runs["milvus"]["dense_recall_at_10"] == runs["faiss"]["dense_recall_at_10"] == 1.0
    assert runs["milvus"]["index_bytes"] > runs["faiss"]["index_bytes"] / 2  # the Lite file
