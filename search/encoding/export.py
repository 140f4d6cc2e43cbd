"""Export a sentence-transformers model to ONNX Runtime or OpenVINO, once, from local weights.

Layout under the folder the caller gives (the interfaces pass ``$DOCSEARCH_HOME/models/exported``)::

    <export_dir>/<weights fingerprint>/source/model.onnx        the whole pipeline, traced once
    <export_dir>/<weights fingerprint>/<backend>/<artefact>     what that backend runs
    <export_dir>/<weights fingerprint>/<backend>/export.json    written last: the export is done

Each folder is built beside its final place and renamed into it, so a crash never leaves a
half-written export that a later load would trust; a second load finds ``export.json`` and
exports nothing. Nothing is downloaded: the source is the packaged (or given local) weights, and
a static quantization calibrates on passages the caller hands in, never on a hub data set.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from search.encoding.backend import SPECS, Backend

EXPORT_INFO = "export.json"
SOURCE = "source"  # sub-folder of the traced fp32 ONNX graph every backend starts from
CALIBRATION_PASSAGES = 300  # what a static quantization calibrates on, at most
CALIBRATION_BATCH = 8


@dataclass(frozen=True)
class Export:
    """An exported model ready to run: its file and the calibration it was quantized with."""

    backend: Backend
    artefact: Path
    calibration: str  # sha256 of the calibration passages; "" when the backend needs none
    passages: int  # how many passages calibrated it


def ensure_export(
    model,
    weights: str,
    backend: Backend,
    export_dir: Path,
    calibration: Sequence[str] | None = None,
) -> Export:
    """The export of ``model`` (a SentenceTransformer, fp32 on the CPU) for ``backend``,
    built on first use and reused afterwards (whatever ``calibration`` is then)."""
    spec = SPECS[backend]
    if not spec.artefact:
        raise ValueError(f"Backend {backend.value} runs PyTorch directly; nothing to export.")
    folder = Path(export_dir) / weights / backend.value
    if not (folder / EXPORT_INFO).is_file():
        if spec.calibrated and not calibration:
            raise ValueError(
                f"Backend {backend.value} calibrates int8 ranges on your own passages and has no "
                f"export in {folder.parent} yet: pass calibration=[...] (a few hundred passages of "
                "the corpus) on the first load, or choose backend openvino-bf16 or onnx-int8."
            )
        source = _source_onnx(model, Path(export_dir) / weights)
        # the exporters' progress bars (NNCF's) go to stderr: a command's stdout is its JSON
        with _building(folder) as staging, contextlib.redirect_stdout(sys.stderr):
            info = _EXPORTERS[backend](model, source, staging / spec.artefact, calibration)
            (staging / EXPORT_INFO).write_text(
                json.dumps({"backend": backend.value, "weights": weights, **info}, indent=2)
            )
    return existing_export(folder, backend)


def existing_export(folder: Path, backend: Backend) -> Export | None:
    """The finished export of ``backend`` in ``folder`` (``<export_dir>/<weights>/<backend>``);
    None when there is none (no ``export.json``: never exported, or interrupted)."""
    try:
        info = json.loads((folder / EXPORT_INFO).read_text())
    except (OSError, ValueError):
        return None
    return Export(backend, folder / SPECS[backend].artefact, info["calibration"], info["passages"])


class _building:
    """A staging folder renamed to ``final`` on success; removed on failure or if another
    process finished the same export first."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.staging = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")

    def __enter__(self) -> Path:
        self.staging.mkdir(parents=True)
        return self.staging

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None and not (self.final / EXPORT_INFO).is_file():
            if self.final.exists():  # an interrupted export left no export.json: redo it
                shutil.rmtree(self.final)
            os.replace(self.staging, self.final)
        shutil.rmtree(self.staging, ignore_errors=True)


def _source_onnx(model, weights_folder: Path) -> Path:
    """The whole sentence-transformers pipeline (transformer, pooling, normalisation) traced to
    one fp32 ONNX graph whose output is the sentence embedding."""
    folder = weights_folder / SOURCE
    path = folder / "model.onnx"
    if (folder / EXPORT_INFO).is_file():
        return path
    import torch

    names = _input_names(model)
    sample = model.tokenizer(
        ["a first passage", "and a second one"], padding=True, return_tensors="pt"
    )
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    transformer = model[0].auto_model
    # the eager attention is the graph ONNX Runtime's optimizer recognises and fuses
    previous = transformer.config._attn_implementation
    transformer.set_attn_implementation("eager")
    try:
        with _building(folder) as staging, torch.no_grad(), warnings.catch_warnings():
            # the tracer warns of shape checks that are constant for every input; the traced
            # graph is checked against PyTorch by tests/search/encoding/test_exported.py
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _pipeline(model, names),
                tuple(sample[name] for name in names),
                str(staging / "model.onnx"),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,  # the TorchScript exporter needs no onnxscript and handles BERT
            )
            (staging / EXPORT_INFO).write_text(json.dumps({"backend": SOURCE}))
    finally:
        transformer.set_attn_implementation(previous)
    return path


def _input_names(model) -> list[str]:
    wanted = ("input_ids", "attention_mask", "token_type_ids")
    return [n for n in wanted if n in model.tokenizer.model_input_names]


def _pipeline(model, names: list[str]):
    """A torch Module taking positional tensors and giving the normalised sentence embedding
    (torch is imported here, not when the package loads)."""
    import torch

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model(dict(zip(names, tensors, strict=True)))["sentence_embedding"]

    return Pipeline().eval()


def _onnx_fp32(model, source: Path, target: Path, calibration) -> dict:
    """ONNX Runtime's transformer optimizer: fused attention, LayerNorm and GELU kernels."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = model[0].auto_model.config
    optimized = optimize_model(
        str(source),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
    )
    optimized.save_model_to_file(str(target))
    return {"calibration": "", "passages": 0}


def _onnx_int8(model, source: Path, target: Path, calibration) -> dict:
    """The fused graph with int8 weights (per channel); activations are quantized at run time,
    so no calibration is needed. Runs on VNNI where the CPU has it."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fused = target.with_name("fused.onnx")
    _onnx_fp32(model, source, fused, None)
    quantize_dynamic(
        str(fused),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        # the fused contrib ops carry no inferred types: their outputs are float
        extra_options={"DefaultTensorType": 1},
    )
    fused.unlink()
    return {"calibration": "", "passages": 0}


def _openvino_fp32(model, source: Path, target: Path, calibration) -> dict:
    import openvino as ov

    ov.save_model(ov.Core().read_model(str(source)), str(target), compress_to_fp16=False)
    return {"calibration": "", "passages": 0}


def _openvino_int8(model, source: Path, target: Path, calibration: Sequence[str]) -> dict:
    """Post-training static quantization with NNCF (SmoothQuant and bias correction, the
    transformer preset), calibrated on the caller's passages."""
    import nncf
    import openvino as ov

    passages = list(calibration)[:CALIBRATION_PASSAGES]
    names = _input_names(model)
    batches = []
    for i in range(0, len(passages), CALIBRATION_BATCH):
        encoded = model.tokenizer(
            passages[i : i + CALIBRATION_BATCH],
            padding=True,
            truncation=True,
            max_length=model.max_seq_length,
            return_tensors="np",
        )
        batches.append({name: encoded[name].astype("int64") for name in names})
    quantized = nncf.quantize(
        ov.Core().read_model(str(source)),
        nncf.Dataset(batches),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(batches),
    )
    ov.save_model(quantized, str(target), compress_to_fp16=False)
    return {"calibration": calibration_digest(passages), "passages": len(passages)}


def calibration_sample(texts: Sequence[str], n: int = CALIBRATION_PASSAGES) -> list[str]:
    """``n`` texts spread evenly over ``texts`` (a corpus in document order covers its topics
    better spread than from its start); all of them when there are fewer."""
    texts = [t for t in texts if t.strip()]
    if len(texts) <= n:
        return texts
    step = len(texts) / n
    return [texts[int(i * step)] for i in range(n)]


def calibration_digest(passages: Sequence[str]) -> str:
    """sha256 over the calibration passages, in order (order decides nothing, but it is cheap
    to keep and makes the digest exact)."""
    digest = hashlib.sha256()
    for text in passages:
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    return digest.hexdigest()[:16]


_EXPORTERS = {
    Backend.ONNX: _onnx_fp32,
    Backend.ONNX_INT8: _onnx_int8,
    Backend.OPENVINO: _openvino_fp32,
    Backend.OPENVINO_BF16: _openvino_fp32,
    Backend.OPENVINO_INT8: _openvino_int8,
}
