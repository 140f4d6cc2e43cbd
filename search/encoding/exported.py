"""An encoder that runs an exported model (ONNX Runtime or OpenVINO) instead of PyTorch."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from search.config import DEFAULT_MODEL
from search.encoding.backend import (
    SPECS,
    Backend,
    backend_fingerprint,
    cpu_threads,
)
from search.encoding.batching import encode_bucketed, token_lengths
from search.encoding.encoder import (
    ProgressFn,
    load_sentence_transformer,
    sentence_dimension,
    weights_fingerprint,
)
from search.encoding.export import Export, ensure_export
from search.encoding.prompts import Prompts


class ExportedEncoder:
    """A sentence-transformers model exported once, then run by a faster runtime on the CPU.

    Passages and queries go through the same exported model (the identity of the vectors is the
    backend's). Texts are encoded in length-sorted batches by the fast tokenizer's batch path,
    with every runtime's thread pool sized to the cores this process may use.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        backend: Backend = Backend.ONNX_INT8,
        export_dir: str | Path | None = None,
        calibration: Sequence[str] | None = None,
        batch_size: int = 64,
        max_seq_length: int | None = None,
        prompts: Prompts | None = None,
    ) -> None:
        if SPECS[backend].runtime == "torch":
            raise ValueError(f"Backend {backend.value} is PyTorch: use SentenceTransformerEncoder.")
        source = load_sentence_transformer(model, "cpu")
        weights = weights_fingerprint(source)
        # the model's own query/passage prompts (search/encoding/prompts.py) unless given
        self.prompts = Prompts.of_model(source) if prompts is None else prompts
        if calibration:  # int8 ranges are calibrated on passages as they will be encoded
            calibration = self.prompts.passages(calibration)
        self.export_dir = Path(export_dir or default_export_dir())
        export = ensure_export(source, weights, backend, self.export_dir, calibration)
        self.model_id = model
        self.backend = backend
        self.device = "cpu"
        self.batch_size = batch_size
        self.dim = sentence_dimension(source)
        self.tokenizer = source.tokenizer
        self.max_seq_length = max_seq_length or source.max_seq_length
        self.weights_fingerprint = weights
        self.calibration = export.calibration  # digest of the int8 calibration passages, or ""
        self.fingerprint = self.prompts.fingerprint(
            backend_fingerprint(weights, backend, export.calibration)
        )
        # what an index version carries so any home can load it: <weights>/<backend>/
        self.export_folder = self.export_dir / weights / backend.value
        self._names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                       if n in self.tokenizer.model_input_names]  # fmt: skip
        self._forward = _runner(export)
        # the PyTorch copy served the export and the fingerprint; drop it to keep memory small

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        return self._encode(self.prompts.passages(texts), progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self.prompts.queries(texts), None)

    def _encode(self, texts: list[str], progress: ProgressFn | None) -> np.ndarray:
        lengths = token_lengths(self.tokenizer, texts, self.max_seq_length)
        return encode_bucketed(
            texts, lengths, self.batch_size, self.dim, self._tokenize, self._forward,
            progress=progress,
        )  # fmt: skip

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        encoded = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        return [tuple(span) for span in encoded["offset_mapping"]]

    def _tokenize(self, texts: list[str]) -> dict[str, np.ndarray]:
        encoded = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_seq_length,
            return_tensors="np",
        )
        return {name: encoded[name].astype(np.int64) for name in self._names}


def default_export_dir() -> Path:
    """Where exports go when the caller names no folder: the user's cache (the interfaces pass
    ``Settings.exported_models_dir``, under DOCSEARCH_HOME, instead)."""
    return Path.home() / ".cache" / "docsearch" / "exported"


def _runner(export: Export):
    """``inputs -> vectors`` for the exported model, in its runtime."""
    spec = SPECS[export.backend]
    if spec.runtime == "onnxruntime":
        return _onnxruntime(export.artefact)
    return _openvino(export.artefact, "bf16" if spec.precision == "bf16" else "f32")


def _onnxruntime(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = cpu_threads()
    options.inter_op_num_threads = 1  # one graph at a time: parallelism is inside each operator
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def forward(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(session.run(None, inputs)[0], dtype=np.float32)

    return forward


def _openvino(path: Path, precision: str):
    import openvino as ov

    core = ov.Core()
    if precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        raise ValueError(
            "This CPU has no bf16 arithmetic (AVX512-BF16 or AMX): choose encoder backend "
            "openvino-int8, onnx-int8 or openvino instead of openvino-bf16."
        )
    compiled = core.compile_model(
        str(path),
        "CPU",
        {
            "INFERENCE_NUM_THREADS": cpu_threads(),
            "PERFORMANCE_HINT": "LATENCY",  # one stream: a batch uses every core
            # explicit, so the vectors do not change with the CPU's default precision
            "INFERENCE_PRECISION_HINT": precision,
        },
    )
    request = compiled.create_infer_request()
    lock = threading.Lock()  # an infer request serves one caller at a time

    def forward(inputs: dict[str, np.ndarray]) -> np.ndarray:
        with lock:
            return np.array(request.infer(inputs)[0], dtype=np.float32)

    return forward
