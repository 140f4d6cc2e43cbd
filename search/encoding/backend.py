"""Inference backends of an encoder: which runtime and precision turn the same weights into vectors.

The backend is part of the encoder's identity. Two backends give slightly different vectors for
the same text (int8 rounding, bf16 accumulation), so the embedding cache keys and the index
manifest carry a fingerprint that differs per backend: vectors of two backends never mix.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from enum import StrEnum

from search.config import DEFAULT_ENCODER_BACKEND


class Backend(StrEnum):
    """How passages (and, except for a fine-tuned query side, queries) are encoded."""

    TORCH = "torch"  # sentence-transformers in PyTorch, fp32: the reference
    TORCH_FP16 = "torch-fp16"  # PyTorch in half precision, CUDA only
    ONNX = "onnx"  # ONNX Runtime, fp32, transformer fusions
    ONNX_INT8 = "onnx-int8"  # ONNX Runtime, int8 weights, activations quantized at run time
    OPENVINO = "openvino"  # OpenVINO, fp32
    OPENVINO_BF16 = "openvino-bf16"  # OpenVINO, bf16 compute (CPUs with AVX512-BF16 or AMX)
    OPENVINO_INT8 = "openvino-int8"  # OpenVINO, int8 static quantization calibrated on passages


@dataclass(frozen=True)
class BackendSpec:
    """What a backend needs: its runtime, the exported file it runs, and how it computes."""

    runtime: str  # "torch", "onnxruntime" or "openvino"
    artefact: str  # file name in the export folder ("" for PyTorch: nothing is exported)
    precision: str  # what the arithmetic runs in: "f32", "f16", "bf16" or "int8"
    calibrated: bool = False  # needs passages to calibrate activation ranges


SPECS: dict[Backend, BackendSpec] = {
    Backend.TORCH: BackendSpec("torch", "", "f32"),
    Backend.TORCH_FP16: BackendSpec("torch", "", "f16"),
    Backend.ONNX: BackendSpec("onnxruntime", "model.onnx", "f32"),
    Backend.ONNX_INT8: BackendSpec("onnxruntime", "model_int8.onnx", "int8"),
    Backend.OPENVINO: BackendSpec("openvino", "openvino_model.xml", "f32"),
    Backend.OPENVINO_BF16: BackendSpec("openvino", "openvino_model.xml", "bf16"),
    Backend.OPENVINO_INT8: BackendSpec("openvino", "openvino_model_int8.xml", "int8", True),
}

DEFAULT_BACKEND = Backend(DEFAULT_ENCODER_BACKEND)  # the product's default (search.config)


def parse_backend(value: str | Backend) -> Backend:
    """The Backend named by ``value``, or a one-line error that lists the valid names."""
    try:
        return Backend(str(value).strip().lower())
    except ValueError:
        names = ", ".join(b.value for b in Backend)
        raise ValueError(f"Unknown encoder backend {value!r}: use one of {names}.") from None


def backend_fingerprint(weights: str, backend: Backend, calibration: str = "") -> str:
    """The encoder fingerprint for ``weights`` run by ``backend``.

    PyTorch fp32 keeps the plain weights fingerprint, so embedding caches and indexes written
    before backends existed stay valid. Every other backend hashes the weights fingerprint with
    its name and, for a calibrated quantization, the digest of the calibration passages (another
    calibration gives other int8 ranges, hence other vectors).
    """
    if backend == Backend.TORCH:
        return weights
    payload = f"{weights}|{backend.value}|{calibration}"
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def cpu_threads() -> int:
    """Cores this process may run on: the thread count for every runtime's intra-op pool (more
    threads than cores only adds context switches on a small machine)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
