"""Incremental build steps: what changed since the last index, embed only new text, assemble."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.chunking import Chunk
from search.config import IndexConfig
from search.encoding import EmbeddingCache, Encoder, ProgressFn, embed_with_cache
from search.index.search_index import (
    SearchIndex,
    corpus_fingerprint,
    encoder_matches,
    read_manifest,
)
from search.index.store import IndexStore
from search.ingest import Document


@dataclass(frozen=True)
class DocumentChanges:
    """Document ids by what happened to them since the previous index version."""

    new: tuple[str, ...]
    modified: tuple[str, ...]
    deleted: tuple[str, ...]
    unchanged: tuple[str, ...]
    previous_version: str | None

    @property
    def changed(self) -> bool:
        return bool(self.new or self.modified or self.deleted)


def indexed_hashes(index_folder: str | Path) -> dict[str, str]:
    """``{doc_id: content_hash}`` of a saved index, read from its documents.jsonl."""
    hashes = {}
    with open(Path(index_folder) / "documents.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            hashes[row["id"]] = row["metadata"].get("content_hash", "")
    return hashes


def latest_version(store: IndexStore) -> str | None:
    """The newest version written (names are UTC timestamps, so they sort by time)."""
    versions = store.versions()
    return versions[-1] if versions else None


def diff_documents(documents: Sequence[Document], store: IndexStore) -> DocumentChanges:
    """Compare parsed documents with the newest version in ``store`` by content hash."""
    previous = latest_version(store)
    before = indexed_hashes(store.path(previous)) if previous else {}
    now = {d.id: d.metadata.get("content_hash", "") for d in documents}
    return DocumentChanges(
        new=tuple(sorted(set(now) - set(before))),
        modified=tuple(sorted(d for d in now if d in before and before[d] != now[d])),
        deleted=tuple(sorted(set(before) - set(now))),
        unchanged=tuple(sorted(d for d in now if d in before and before[d] == now[d])),
        previous_version=previous,
    )


@dataclass(frozen=True)
class Embeddings:
    """Vectors for chunks, row for row, and how many had to be encoded."""

    vectors: np.ndarray
    chunks_embedded: int
    chunks_reused: int
    seconds: float


def embed_chunks(
    chunks: Sequence[Chunk],
    config: IndexConfig,
    encoder: Encoder,
    cache: EmbeddingCache,
    progress: ProgressFn | None = None,
) -> Embeddings:
    """Embed chunk texts through the cache: unchanged text is read back, never re-encoded."""
    started = time.perf_counter()
    texts = [c.embedding_text(config.title_in_chunks) for c in chunks]
    vectors, encoded = embed_with_cache(encoder, texts, cache, progress)
    return Embeddings(vectors, encoded, len(texts) - encoded, time.perf_counter() - started)


def assemble_index(
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    embeddings: Embeddings,
    config: IndexConfig,
    encoder: Encoder,
    cache: EmbeddingCache,
) -> SearchIndex:
    """The index over ``documents`` once ``embed_chunks`` has filled the cache.

    ``SearchIndex.build`` stays the one way an index is made: it re-chunks (deterministic, so
    the chunks equal ``chunks``) and reads every vector back from the cache. The build stats
    then report what the embedding step encoded and reused.
    """
    index = SearchIndex.build(documents, config, encoder, cache)
    if len(index.chunks) != len(chunks):
        raise ValueError(f"index has {len(index.chunks)} chunks, the chunking step {len(chunks)}")
    stats = index.build_stats
    index.build_stats = dataclasses.replace(
        stats,
        chunks_embedded=embeddings.chunks_embedded + stats.chunks_embedded,
        chunks_reused=len(chunks) - embeddings.chunks_embedded - stats.chunks_embedded,
        seconds=stats.seconds + embeddings.seconds,
        encode_seconds=stats.encode_seconds + embeddings.seconds,
    )
    return index


def matching_version(
    store: IndexStore, documents: Mapping[str, dict], config: IndexConfig, encoder: Encoder
) -> str | None:
    """The newest version built from the same corpus, build config and encoder, if any."""
    previous = latest_version(store)
    if previous is None:
        return None
    manifest = read_manifest(store.path(previous))
    same = (
        manifest["corpus_fingerprint"] == corpus_fingerprint(documents)
        and manifest["config_fingerprint"] == config.build_fingerprint()
        and encoder_matches(manifest["model"], encoder)
    )
    return previous if same else None


def folder_bytes(folder: str | Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def folder_signature(root: str | Path) -> str:
    """A cheap fingerprint of a folder (paths, sizes, modification times of visible files):
    it changes when a file is added, edited or removed, without reading any file."""
    import hashlib
    import os

    digest = hashlib.sha256()
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(f for f in filenames if not f.startswith(".")):
            stat = Path(dirpath, name).stat()
            rel = Path(dirpath, name).relative_to(root).as_posix()
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
