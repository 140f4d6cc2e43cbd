"""An index folder's names and its manifest: format, encoder identity, corpus, checksums.

Layout of one index folder (format 1)::

    manifest.json      format version, config, encoder identity, counts, corpus fingerprint,
                       build stats, memory summary, and a sha256 of every other file
    documents.jsonl    one row per document: {"id", "title", "metadata"}
    chunks.jsonl       one row per chunk, in dense-index row order
    dense.faiss        the FAISS index over chunk vectors
    sparse/            the BM25 index over documents (bm25s files)
    memory/            the feedback memory, when the index has one
    access/            who may read each document, when the version carries an access policy

Every name in the folder is a constant here (the store's ``versions/`` and ``CURRENT`` are in
``search.index.store``); no other module spells them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from search.config import IndexConfig
from search.encoding import (
    Encoder,
    document_encoder,
    encoder_backend,
    query_backend,
    query_fingerprint,
)
from search.ingest import Document

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
CHUNKS = "chunks.jsonl"
DENSE = "dense.faiss"
SPARSE = "sparse"
MEMORY = "memory"  # sub-folder holding the choice memory, when the index has one
ENCODER = "encoder"  # sub-folder holding the exported encoder, when an exported backend made it
ACCESS = "access"  # sub-folder holding the per-principal read bitmaps (search.index.access)


class IndexLoadError(Exception):
    """An index that cannot be used: missing, corrupt, or built for another encoder."""


def read_manifest(folder: str | Path) -> dict:
    """The manifest of an index folder, refused unless it is readable and in this format."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexLoadError(
            f"No index at {folder}: {MANIFEST} is missing. Build one with `docsearch build`."
        )
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise IndexLoadError(
            f"Index {folder} has an unreadable manifest ({exc}). Rebuild it."
        ) from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexLoadError(
            f"Index {folder} has format {manifest.get('format_version')}, this version reads "
            f"{FORMAT_VERSION}. Rebuild it."
        )
    return manifest


def new_manifest(
    *,
    config: IndexConfig,
    encoder: Encoder,
    dense_index: str,
    documents: Mapping[str, dict],
    chunks: int,
    build: Mapping,
    memory: Mapping | None,
    files: Mapping[str, str],
    access: Mapping | None = None,
) -> dict:
    """The manifest of an index folder whose other files are written (``files``: checksums)."""
    return {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": recorded_config(config, encoder).to_dict(),
        "config_fingerprint": recorded_config(config, encoder).build_fingerprint(),
        "model": encoder_identity(encoder),
        "dense_index": dense_index,
        "counts": {"documents": len(documents), "chunks": chunks},
        "corpus_fingerprint": corpus_fingerprint(documents),
        "build": dict(build),
        "memory": dict(memory) if memory is not None else None,
        "access": dict(access) if access is not None else None,
        "files": dict(files),
    }


def checksums(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder``, in path order."""
    return {
        str(p.relative_to(folder)): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def verify_files(folder: Path, manifest: Mapping) -> None:
    """Raise IndexLoadError unless every file the manifest lists is there with its checksum."""
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise IndexLoadError(f"Index {folder} is incomplete: {name} is missing. Rebuild it.")
        if _sha256(path) != expected:
            raise IndexLoadError(
                f"Index {folder} is corrupt: checksum of {name} does not match the manifest. "
                "Rebuild it or roll back to another version."
            )


def encoder_identity(encoder: Encoder) -> dict:
    """What a manifest records of the encoder: its id, the fingerprint of what made the stored
    vectors (weights, backend and, for int8, its calibration) and of what encodes queries, the
    backends of both sides, the plain weights' fingerprint, and the dimension."""
    documents = document_encoder(encoder)
    return {
        "id": encoder.model_id,
        "fingerprint": encoder.fingerprint,
        "query_fingerprint": query_fingerprint(encoder),
        "backend": encoder_backend(encoder),
        "query_backend": query_backend(encoder),
        "weights_fingerprint": getattr(documents, "weights_fingerprint", encoder.fingerprint),
        "calibration": getattr(documents, "calibration", ""),
        "dim": encoder.dim,
    }


def encoder_matches(recorded: Mapping, encoder: Encoder) -> bool:
    """Whether ``encoder`` is the one a manifest's ``model`` entry records (both sides)."""
    return (
        encoder.fingerprint == recorded["fingerprint"]
        and query_fingerprint(encoder) == _query_side(recorded)
        and encoder.dim == recorded["dim"]
    )


def check_encoder(folder: Path, recorded: Mapping, encoder: Encoder) -> None:
    """Raise IndexLoadError, naming both encoders, unless ``encoder`` made this index."""
    if encoder_matches(recorded, encoder):
        return
    given = encoder_identity(encoder)
    raise IndexLoadError(
        f"Index {folder} was built with encoder {recorded['id']} (fingerprint "
        f"{recorded['fingerprint']}, query fingerprint {_query_side(recorded)}, dim "
        f"{recorded['dim']}) but the encoder given is {given['id']} (fingerprint "
        f"{given['fingerprint']}, query fingerprint {given['query_fingerprint']}, dim "
        f"{given['dim']}). Load it with the matching encoder or rebuild the index."
    )


def _query_side(recorded: Mapping) -> str:
    # manifests written before query-side fine-tuning existed encode queries with the same weights
    return recorded.get("query_fingerprint", recorded["fingerprint"])


def corpus_fingerprint(documents: Mapping[str, dict] | Iterable[Document]) -> str:
    """Hash of (doc id, content hash) pairs: equal for equal corpora.

    Takes an index's ``{doc_id: {"metadata": ...}}`` or parsed ``Document`` objects alike.
    """
    if not isinstance(documents, Mapping):
        documents = {d.id: {"metadata": d.metadata} for d in documents}
    digest = hashlib.sha256()
    for doc_id in sorted(documents):
        digest.update(doc_id.encode())
        digest.update(str(documents[doc_id]["metadata"].get("content_hash", "")).encode())
    return digest.hexdigest()[:16]


def recorded_config(config: IndexConfig, encoder: Encoder) -> IndexConfig:
    """``config`` as an index built with ``encoder`` records it: with the backend that really
    made the vectors (a test's hashing encoder is "torch", whatever the configured default)."""
    return config.replace(encoder_backend=encoder_backend(encoder))


def same_build(manifest: Mapping, corpus: str, config: IndexConfig, encoder: Encoder) -> bool:
    """Whether a manifest records a build from corpus fingerprint ``corpus`` with the build
    fields of ``config`` and with ``encoder``: then building again would give the same index."""
    return (
        manifest["corpus_fingerprint"] == corpus
        and manifest["config_fingerprint"] == recorded_config(config, encoder).build_fingerprint()
        and encoder_matches(manifest["model"], encoder)
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
