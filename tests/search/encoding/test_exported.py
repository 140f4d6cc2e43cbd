"""The real packaged MiniLM exported to ONNX Runtime / OpenVINO: cached, faithful, kept apart."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from search.config import IndexConfig
from search.encoding import (
    Backend,
    QueryTunedEncoder,
    backend_fingerprint,
    load_encoder,
    write_query_encoder_pairing,
)
from search.encoding import export as export_module
from search.index import IndexLoadError, SearchIndex

pytestmark = pytest.mark.slow

TEXTS = [
    "Aspirin lowers the risk of a second heart attack.",
    "short",
    "Vitamin D deficiency is common in the elderly and is associated with falls, fractures and "
    "a higher mortality in several large cohort studies from northern Europe.",
    "Cells divide.",
]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("exported")


@pytest.fixture(scope="module")
def onnx_encoder(export_dir):
    return load_encoder("all-MiniLM-L6-v2", backend="onnx", export_dir=export_dir)


def test_a_second_load_reuses_the_export(onnx_encoder, export_dir, monkeypatch):
    artefact = export_dir / onnx_encoder.weights_fingerprint / "onnx" / "model.onnx"
    written = artefact.stat().st_mtime_ns

    def no_export(*args):
        raise AssertionError("exported again")

    monkeypatch.setattr(export_module, "_EXPORTERS", {b: no_export for b in Backend})
    monkeypatch.setattr(export_module, "_source_onnx", no_export)
    again = load_encoder("all-MiniLM-L6-v2", backend="onnx", export_dir=export_dir)
    assert again.fingerprint == onnx_encoder.fingerprint
    assert artefact.stat().st_mtime_ns == written


def test_exported_vectors_match_pytorch_in_input_order(onnx_encoder, real_encoder):
    bucketed = onnx_encoder.encode(TEXTS)  # sorted by length inside, returned in input order
    one_by_one = np.vstack([onnx_encoder.encode([t]) for t in TEXTS])  # no bucketing
    reference = real_encoder.encode(TEXTS)
    assert bucketed.shape == (4, 384) and bucketed.dtype == np.float32
    assert np.all(np.sum(bucketed * one_by_one, axis=1) > 0.99)
    assert np.all(np.sum(bucketed * reference, axis=1) > 0.99)
    assert np.allclose(np.linalg.norm(bucketed, axis=1), 1.0, atol=1e-4)
    assert np.all(np.sum(onnx_encoder.encode_queries(TEXTS[:1]) * reference[:1], axis=1) > 0.99)
    assert onnx_encoder.token_spans("Cells divide.") == real_encoder.token_spans("Cells divide.")


def test_the_backend_is_part_of_the_identity(onnx_encoder, real_encoder):
    assert onnx_encoder.weights_fingerprint == real_encoder.weights_fingerprint
    assert real_encoder.fingerprint == real_encoder.weights_fingerprint  # torch: unchanged
    assert onnx_encoder.fingerprint == backend_fingerprint(
        real_encoder.weights_fingerprint, Backend.ONNX
    )
    assert onnx_encoder.fingerprint != real_encoder.fingerprint


def test_an_index_refuses_an_encoder_of_another_backend(
    onnx_encoder, real_encoder, export_dir, tiny_docs, tmp_path
):
    config = IndexConfig(encoder_backend="onnx", chunk_tokens=64, chunk_overlap=8)
    index = SearchIndex.build(tiny_docs, config, onnx_encoder)
    folder = index.save(tmp_path / "idx")
    with pytest.raises(IndexLoadError, match="fingerprint"):
        SearchIndex.load(folder, real_encoder)  # same weights, PyTorch: refused
    same = load_encoder("all-MiniLM-L6-v2", backend="onnx", export_dir=export_dir)
    query = {"q": "how long must a password be"}
    assert SearchIndex.load(folder, same).run(query) == index.run(query)


def test_a_fine_tuned_query_side_pairs_with_an_exported_document_side(
    onnx_encoder, real_encoder, export_dir, tmp_path
):
    folder = tmp_path / "query-encoder"
    real_encoder.model.save(str(folder))  # stands in for the fine-tuned copy
    write_query_encoder_pairing(folder, onnx_encoder)
    pairing = json.loads((folder / "docsearch_query_encoder.json").read_text())
    assert pairing["document_backend"] == "onnx"
    assert pairing["document_export_dir"] == str(export_dir)
    tuned = load_encoder(str(folder))  # the export is found where the pairing says
    assert isinstance(tuned, QueryTunedEncoder)
    assert (tuned.backend, tuned.query_backend) == ("onnx", "torch")
    assert tuned.fingerprint == onnx_encoder.fingerprint  # the stored vectors' identity
    assert tuned.query_fingerprint == real_encoder.fingerprint  # PyTorch weights, unchanged
    queries = tuned.encode_queries(TEXTS[:2])
    assert np.all(np.sum(queries * real_encoder.encode(TEXTS[:2]), axis=1) > 0.999)


def test_static_int8_calibrates_on_the_passages_handed_in(export_dir, real_encoder, capsys):
    with pytest.raises(ValueError, match="pass calibration="):
        load_encoder("all-MiniLM-L6-v2", backend="openvino-int8", export_dir=export_dir)
    passages = TEXTS * 2  # one calibration batch of 8
    int8 = load_encoder(
        "all-MiniLM-L6-v2", backend="openvino-int8", export_dir=export_dir, calibration=passages
    )
    assert int8.calibration == export_module.calibration_digest(passages)
    # NNCF's progress bars go to stderr: a benchmark's stdout is its JSON alone
    shown = capsys.readouterr()
    assert shown.out == "" and "Statistics collection" in shown.err
    assert int8.fingerprint == backend_fingerprint(
        real_encoder.weights_fingerprint, Backend.OPENVINO_INT8, int8.calibration
    )
    # int8 is close to fp32, not equal (8 passages calibrate it roughly; the product uses 300)
    assert np.all(np.sum(int8.encode(TEXTS) * real_encoder.encode(TEXTS), axis=1) > 0.9)


def test_the_overlapped_gpu_path_gives_plain_vectors_in_input_order(real_encoder):
    from search.encoding import SentenceTransformerEncoder

    # the CUDA path (length buckets, tokenization a batch ahead) run on the CPU, batches of 2
    overlapped = SentenceTransformerEncoder(device="cpu", batch_size=2, overlapped=True)
    done = []
    vectors = overlapped.encode(TEXTS, progress=lambda d, t: done.append((d, t)))
    assert np.all(np.sum(vectors * real_encoder.encode(TEXTS), axis=1) > 0.999)
    assert done == [(2, 4), (4, 4)]
    with pytest.raises(ValueError, match="torch-fp16 needs a CUDA GPU"):
        load_encoder("all-MiniLM-L6-v2", device="cpu", backend="torch-fp16")


def test_a_carded_export_loads_without_torch_and_encodes_the_same(onnx_encoder, export_dir):
    folder = export_dir / onnx_encoder.weights_fingerprint / "onnx"
    assert {"encoder.json", "tokenizer.json", "tokenizer_settings.json"} <= {
        p.name for p in folder.iterdir()
    }
    # a fresh process: what a command or a server pays to load the encoder of an index version
    script = (
        "import sys, numpy as np; from search.encoding import load_encoder\n"
        f"e = load_encoder('all-MiniLM-L6-v2', backend='onnx', export_dir={str(export_dir)!r},"
        f" weights={onnx_encoder.weights_fingerprint!r}, read_only=True)\n"
        f"np.save(sys.argv[1], e.encode({TEXTS!r}))\n"
        "print(e.fingerprint, e.token_spans('Cells divide.'),"
        " [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules])\n"
    )
    vectors = export_dir.parent / "carded.npy"
    done = subprocess.run(
        [sys.executable, "-c", script, str(vectors)], capture_output=True, text=True, check=True
    )
    expected = f"{onnx_encoder.fingerprint} {onnx_encoder.token_spans('Cells divide.')} []"
    assert done.stdout.strip() == expected  # same identity, same spans, no PyTorch imported
    assert np.array_equal(np.load(vectors), onnx_encoder.encode(TEXTS))  # bit for bit


def test_an_index_versions_export_is_never_written_to(onnx_encoder, export_dir, tmp_path):
    weights = onnx_encoder.weights_fingerprint
    sealed = tmp_path / "encoder"  # as an index version carries it (its files are checksummed)
    shutil.copytree(export_dir / weights / "onnx", sealed / weights / "onnx")
    for name in ("encoder.json", "tokenizer.json", "tokenizer_settings.json"):
        (sealed / weights / "onnx" / name).unlink()  # exported before exports were carded
    before = sorted(p.relative_to(sealed) for p in sealed.rglob("*"))
    again = load_encoder(
        "all-MiniLM-L6-v2", backend="onnx", export_dir=sealed, weights=weights, read_only=True
    )  # no card: loaded through its model, as before cards
    assert again.fingerprint == onnx_encoder.fingerprint
    assert sorted(p.relative_to(sealed) for p in sealed.rglob("*")) == before
