"""Indexing work cut into batches that run side by side (Dagster's multiprocess or Celery
executor, on this machine or others) and put back together in order.

A batch carries the index config the builder chose, so a worker elsewhere chunks and encodes
with exactly that config and encoder, never with what its own home would suggest. Chunk ids
are per document (``doc#n``) and vectors per text, so the batched result is the unbatched one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search.chunking import Chunk
from search.config import IndexConfig
from search.encoding import EmbeddingCache, Encoder, load_encoder
from search.index import Embeddings, chunk_for_index, embed_chunks
from search.ingest import Document
from search.progress import ProgressFn


@dataclass(frozen=True)
class Batch:
    """One slice of the work: its place among the others, its items, the config to use."""

    number: int
    total: int
    items: list[Any]
    config: dict  # IndexConfig.to_dict() as the builder chose it

    @property
    def key(self) -> str:
        """A Dagster mapping key that sorts in batch order."""
        return f"batch_{self.number:05d}"

    def index_config(self) -> IndexConfig:
        return IndexConfig.from_dict(self.config)


@dataclass(frozen=True)
class EmbeddedBatch:
    number: int
    embeddings: Embeddings
    encoder_fingerprint: str  # the weights that encoded this batch


def split(items: Sequence[Any], size: int, config: IndexConfig) -> list[Batch]:
    """``items`` in batches of ``size`` (at least one batch, empty when there is nothing)."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, not {size}; fix DOCSEARCH_BATCH_SIZE")
    starts = list(range(0, len(items), size)) or [0]
    return [
        Batch(n, len(starts), list(items[s : s + size]), config.to_dict())
        for n, s in enumerate(starts)
    ]


def batch_encoder(batch: Batch, export_dir: Path) -> Encoder:
    """The encoder the batch's config names, run by its backend, loaded on this worker; a clear
    error when it is a folder this machine does not have (a fine-tuned encoder lives on the
    builder) or an int8 export calibrated on the builder's corpus that is not under this
    worker's ``export_dir``."""
    config = batch.index_config()
    if Path(config.model).is_absolute() and not Path(config.model).exists():
        raise FileNotFoundError(
            f"encoder folder {config.model} is not on this worker; copy it to the same path "
            "here, or run the batches on the builder's workers only"
        )
    try:
        return load_encoder(
            config.model,
            batch_size=config.batch_size,
            backend=config.encoder_backend,
            export_dir=export_dir,
        )
    except ValueError as exc:  # an int8 export that only the builder has
        raise FileNotFoundError(
            f"{exc} On a worker of another machine: copy the builder's "
            f"$DOCSEARCH_HOME/models/exported to {export_dir}, or choose a backend without "
            "calibration (DOCSEARCH_ENCODER_BACKEND=openvino-bf16 or onnx-int8)."
        ) from exc


def chunk_batch(batch: Batch, encoder: Encoder) -> tuple[int, list[Chunk]]:
    documents: list[Document] = batch.items
    return batch.number, chunk_for_index(documents, batch.index_config(), encoder)


def embed_batch(
    batch: Batch, encoder: Encoder, cache_path: Path, progress: ProgressFn | None = None
) -> EmbeddedBatch:
    """The batch's chunk vectors through this machine's embedding cache."""
    cache = EmbeddingCache(cache_path)
    try:
        found = embed_chunks(batch.items, batch.index_config(), encoder, cache, progress)
    finally:
        cache.close()
    return EmbeddedBatch(batch.number, found, encoder.fingerprint)


def merge_chunks(parts: Sequence[tuple[int, list[Chunk]]]) -> list[Chunk]:
    """The batches' chunks in batch order (whatever order the workers finished in)."""
    return [c for _, chunks in sorted(parts, key=lambda p: p[0]) for c in chunks]


def merge_embeddings(parts: Sequence[EmbeddedBatch], fingerprint: str, dim: int) -> Embeddings:
    """The batches' vectors row for row in batch order; refused when a worker encoded with
    other weights than the builder's encoder (``fingerprint``)."""
    ordered = sorted(parts, key=lambda p: p.number)
    strangers = {p.encoder_fingerprint for p in ordered} - {fingerprint}
    if strangers:
        raise ValueError(
            f"batches were encoded with weights {sorted(strangers)} instead of {fingerprint}: "
            "a worker has another encoder under the same name; install the same model there"
        )
    vectors = [p.embeddings.vectors for p in ordered if len(p.embeddings.vectors)]
    return Embeddings(
        np.vstack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32),
        sum(p.embeddings.chunks_embedded for p in ordered),
        sum(p.embeddings.chunks_reused for p in ordered),
        sum(p.embeddings.seconds for p in ordered),
    )
