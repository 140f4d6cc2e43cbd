"""An encoder that runs an exported model (ONNX Runtime or OpenVINO) instead of PyTorch."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from search.config import DEFAULT_MODEL
from search.encoding.backend import (
    SPECS,
    Backend,
    backend_fingerprint,
    cpu_threads,
)
from search.encoding.batching import encode_bucketed
from search.encoding.encoder import (
    ProgressFn,
    load_sentence_transformer,
    sentence_dimension,
    weights_fingerprint,
)
from search.encoding.export import Export, ensure_export, existing_export
from search.encoding.prompts import Prompts
from search.encoding.tokenizer import SETTINGS_FILE, TOKENIZER_FILE, FastTokenizer

CARD = "encoder.json"  # in the export folder, written last: the export loads without its model


@dataclass(frozen=True)
class EncoderCard:
    """What an export needs of its source model besides the exported graph: the weights'
    fingerprint (the export's identity), the vector size, the longest input, the prompts, and
    the tokenizer (saved beside it, ``search.encoding.tokenizer``)."""

    weights: str
    dim: int
    max_seq_length: int
    prompts: Prompts

    def save(self, folder: Path, tokenizer: FastTokenizer) -> None:
        """Into ``folder``, each file replaced atomically, the card last (a crash before it
        leaves an export that is loaded from its model once more and carded then)."""
        # beside the export, not in it: a crash leaves nothing that a copy of it would carry
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-card-", dir=folder.parent))
        try:
            tokenizer.save(staging)
            card = {**asdict(self), "prompts": asdict(self.prompts)}
            (staging / CARD).write_text(json.dumps(card, indent=2))
            for name in (TOKENIZER_FILE, SETTINGS_FILE, CARD):
                os.replace(staging / name, folder / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> EncoderCard | None:
        """The card of an export folder; None when it has none (an export written before
        cards existed, or one whose carding was interrupted)."""
        try:
            card = json.loads((folder / CARD).read_text())
        except (OSError, ValueError):
            return None
        return cls(
            card["weights"], int(card["dim"]), int(card["max_seq_length"]),
            Prompts(**card["prompts"]),
        )  # fmt: skip


class ExportedEncoder:
    """A sentence-transformers model exported once, then run by a faster runtime on the CPU.

    Passages and queries go through the same exported model (the identity of the vectors is the
    backend's). Texts are encoded in length-sorted batches by the fast tokenizer's batch path,
    with every runtime's thread pool sized to the cores this process may use.

    Given the ``weights`` fingerprint (an index manifest records it) of an export that has its
    card, the encoder is loaded from the export folder alone: no PyTorch, no transformers, no
    source model. Otherwise the source model is loaded, exported if need be, and the export is
    carded for next time, unless ``read_only`` (an index version's copy, whose files are
    checksummed, is never written to).
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
        weights: str | None = None,
        read_only: bool = False,
    ) -> None:
        if SPECS[backend].runtime == "torch":
            raise ValueError(f"Backend {backend.value} is PyTorch: use SentenceTransformerEncoder.")
        self.export_dir = Path(export_dir or default_export_dir())
        carded = _carded(self.export_dir, weights, backend)
        if carded is None:
            card, tokenizer, export = _from_model(
                model, backend, self.export_dir, calibration, prompts, read_only
            )
        else:
            card, tokenizer, export = carded
        # the model's own query/passage prompts (search/encoding/prompts.py) unless given
        self.prompts = card.prompts if prompts is None else prompts
        self.model_id = model
        self.backend = backend
        self.device = "cpu"
        self.batch_size = batch_size
        self.dim = card.dim
        self.max_seq_length = max_seq_length or card.max_seq_length
        self.tokenizer = tokenizer.with_max_length(self.max_seq_length)
        self.weights_fingerprint = card.weights
        self.calibration = export.calibration  # digest of the int8 calibration passages, or ""
        self.fingerprint = self.prompts.fingerprint(
            backend_fingerprint(card.weights, backend, export.calibration)
        )
        # what an index version carries so any home can load it: <weights>/<backend>/
        self.export_folder = self.export_dir / card.weights / backend.value
        self._forward = _runner(export)

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        return self._encode(self.prompts.passages(texts), progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self.prompts.queries(texts), None)

    def _encode(self, texts: list[str], progress: ProgressFn | None) -> np.ndarray:
        return encode_bucketed(
            texts, self.tokenizer.lengths(texts), self.batch_size, self.dim,
            self.tokenizer.batch, self._forward, progress=progress,
        )  # fmt: skip

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return self.tokenizer.spans(text)


def _carded(
    export_dir: Path, weights: str | None, backend: Backend
) -> tuple[EncoderCard, FastTokenizer, Export] | None:
    """The card, tokenizer and export of ``<export_dir>/<weights>/<backend>``, when that export
    is complete and carded."""
    if not weights:
        return None
    folder = export_dir / weights / backend.value
    card = EncoderCard.load(folder)
    export = existing_export(folder, backend)
    if card is None or export is None or card.weights != weights:
        return None
    return card, FastTokenizer.load(folder), export


def _from_model(
    model: str,
    backend: Backend,
    export_dir: Path,
    calibration: Sequence[str] | None,
    prompts: Prompts | None,
    read_only: bool,
) -> tuple[EncoderCard, FastTokenizer, Export]:
    """The source model loaded (PyTorch), its export made if missing, and carded."""
    source = load_sentence_transformer(model, "cpu")
    card = EncoderCard(
        weights_fingerprint(source),
        sentence_dimension(source),
        source.max_seq_length,
        Prompts.of_model(source),
    )
    if calibration:  # int8 ranges are calibrated on passages as they will be encoded
        calibration = (prompts or card.prompts).passages(calibration)
    export = ensure_export(source, card.weights, backend, export_dir, calibration)
    tokenizer = FastTokenizer.of_transformers(source.tokenizer, source.max_seq_length)
    folder = export.artefact.parent
    if not read_only and EncoderCard.load(folder) != card:
        card.save(folder, tokenizer)
    return card, tokenizer, export  # the PyTorch copy is dropped: memory stays small


def default_export_dir() -> Path:
    """Where exports go when the caller names no folder: the user's cache (the interfaces pass
    ``Settings.exported_models_dir``, under DOCSEARCH_HOME, instead)."""
    return Path.home() / ".cache" / "docsearch" / "exported"


def compiled_models_dir() -> Path:
    """OpenVINO's cache of compiled models (``CACHE_DIR``), in the user's cache: a process
    that loads an export compiled before reads the compiled blob (0.35 s) instead of compiling
    it again (1.4 s on 2 cores). OpenVINO keys each blob by the model's content, the device and
    the compile options, so exports of any home and index version share it safely."""
    return Path.home() / ".cache" / "docsearch" / "openvino"


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
    core.set_property({"CACHE_DIR": str(compiled_models_dir())})
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
