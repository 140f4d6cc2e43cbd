"""An index folder written and read back: the files ``search.index.manifest`` names."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from search.chunking import Chunk
from search.config import IndexConfig
from search.encoding import Encoder, document_encoder, load_encoder
from search.index.access import AccessTable
from search.index.manifest import (
    ACCESS,
    CHUNKS,
    DENSE,
    DOCUMENTS,
    ENCODER,
    MANIFEST,
    MEMORY,
    SPARSE,
    IndexLoadError,
    check_encoder,
    checksums,
    new_manifest,
    read_manifest,
    verify_files,
)
from search.index.parts import BuildStats, load_dense, load_sparse
from search.index.textstore import StoredChunks, read_rows, write_rows
from search.retrieval import ChoiceMemory, DenseIndex, SparseIndex

if TYPE_CHECKING:
    from search.index.search_index import SearchIndex


class StoredIndex(NamedTuple):
    """What an index folder holds, in ``SearchIndex``'s constructor order."""

    config: IndexConfig
    encoder: Encoder
    chunks: Sequence[Chunk]
    documents: Mapping[str, dict]
    dense: DenseIndex
    sparse: SparseIndex
    manifest: dict
    memory: ChoiceMemory | None
    access: AccessTable | None


def write_index(index: SearchIndex, folder: Path) -> dict:
    """Write ``index`` into ``folder`` (which must not exist); returns the manifest written."""
    folder.mkdir(parents=True, exist_ok=False)
    index.dense.save(folder / DENSE)
    index.sparse.save(folder / SPARSE)
    write_rows(folder, folder / CHUNKS, folder / DOCUMENTS, index.chunks, index.documents)
    if index.memory is not None:
        index.memory.save(folder / MEMORY)
    _copy_export(index.encoder, folder / ENCODER)
    if index.access is not None:
        index.access.save(folder / ACCESS)
    stats = index.build_stats or BuildStats.nothing_encoded(len(index.documents), len(index.chunks))
    manifest = new_manifest(
        config=index.config,
        encoder=index.encoder,
        dense_index=index.dense.kind,
        documents=index.documents,
        chunks=len(index.chunks),
        # the dense index chosen by size and its parameters travel with the build's figures
        build={**stats.__dict__, "dense": index.dense.describe()},
        memory=index.memory.describe() if index.memory is not None else None,
        access=index.access.describe() if index.access is not None else None,
        files=checksums(folder),  # before the manifest exists: it lists every other file
    )
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


BLOCK = 4096  # a file takes whole blocks of its file system
FILES = 32  # files in a version folder, about: each ends in a part-filled block
CHUNK_ROW = 140  # bytes of a chunk's JSON row beside its text and title
CHUNK_ARRAYS = 20  # bytes of a chunk in the row arrays (offsets, document rows)
DOCUMENT_ROW = 512  # a document's JSON row (metadata) and its row arrays
VOCABULARY_WORD = 24  # a BM25 vocabulary entry in vocab.index.json


def estimated_size(index: SearchIndex) -> int:
    """About the bytes ``write_index`` puts on disk for ``index``, to check the free space
    before writing: the dense vectors as FAISS keeps them (float32 or 8-bit codes, and HNSW's
    links), BM25's score arrays and vocabulary, a JSON row per chunk (its text and title) and
    per document with the arrays that index them, the access bitmaps, the choice memory's
    vectors and the encoder export; plus a part-filled block per file."""
    dense = index.dense.describe()
    per_vector = dense["dim"] * (1 if dense.get("codes") == "sq8" else 4) + 8 * dense.get("m", 0)
    per_vector += 16 if "lists" in dense else 0  # IVF: an id in its list, a row in the map
    if dense.get("backend") == "milvus":  # vectors and postings live in Milvus, not here
        per_vector = 0
    scores = index.sparse.retriever.scores
    sparse = sum(np.asarray(scores[key]).nbytes for key in ("data", "indices", "indptr"))
    sparse += VOCABULARY_WORD * len(index.sparse.retriever.vocab_dict)
    rows = _chunk_rows_size(index.chunks) + DOCUMENT_ROW * len(index.documents)
    extras = index.access.bits.nbytes if index.access is not None else 0
    if index.memory is not None:
        extras += len(index.memory.vectors) * dense["dim"] * 4
    export = getattr(document_encoder(index.encoder), "export_folder", None)
    if export is not None:
        extras += sum(p.stat().st_size for p in Path(export).rglob("*") if p.is_file())
    return len(index.dense) * per_vector + sparse + rows + extras + FILES * BLOCK


def _chunk_rows_size(chunks: Sequence[Chunk]) -> int:
    """The chunks' JSON rows and row arrays; a loaded index's from its file, without parsing
    a row (a policy applied to a million chunks would read them all twice)."""
    if isinstance(chunks, StoredChunks):
        return chunks.file_bytes() + CHUNK_ARRAYS * len(chunks)
    return sum(len(c.text) + len(c.title) + CHUNK_ROW + CHUNK_ARRAYS for c in chunks)


def read_index(folder: Path, encoder: Encoder | None = None) -> StoredIndex:
    """Read an index folder, verifying its manifest and checksums before reading any file.

    Without ``encoder`` the one the manifest names is loaded; a given encoder must be the one
    that built the index (both its passage and its query side).
    """
    manifest = read_manifest(folder)
    verify_files(folder, manifest)
    model = manifest["model"]
    encoder = encoder or _encoder_of(folder, model)
    check_encoder(folder, model, encoder)
    stored = read_rows(folder, folder / CHUNKS, folder / DOCUMENTS)
    if stored is not None:  # rows read on demand
        chunks, documents = stored
    else:  # a folder written before rows/ existed: every row parsed now
        documents = read_documents(folder)
        chunks = [
            Chunk(**row, metadata=documents[row["doc_id"]]["metadata"])
            for row in _rows(folder / CHUNKS)
        ]
    recall = _recorded_recall(folder, manifest["build"])
    try:
        dense = load_dense(folder / DENSE, manifest["dense_index"], recall)
        sparse = load_sparse(folder / SPARSE)
    except LookupError as exc:  # a Milvus collection the version names is gone
        raise IndexLoadError(f"Index {folder}: {exc}. Rebuild it.") from exc
    if len(dense) != len(chunks) or len(sparse) != len(documents):
        raise IndexLoadError(f"Index {folder} is inconsistent: row counts differ. Rebuild it.")
    memory = None
    if manifest.get("memory"):
        memory = ChoiceMemory.load(folder / MEMORY).for_encoder(encoder)
    access = _read_access(folder, manifest, len(documents))
    config = IndexConfig.from_dict(manifest["config"])
    return StoredIndex(config, encoder, chunks, documents, dense, sparse, manifest, memory, access)


def _read_access(folder: Path, manifest: dict, documents: int) -> AccessTable | None:
    """The version's access table; None (everyone reads everything) when it records none."""
    recorded = manifest.get("access")
    if not recorded:
        return None
    try:
        access = AccessTable.load(folder / ACCESS)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexLoadError(
            f"Index {folder}: {ACCESS}/ cannot be read ({exc}). Rebuild it or apply the access "
            "policy again."
        ) from exc
    if access.documents != documents or access.describe() != recorded:
        raise IndexLoadError(
            f"Index {folder}: {ACCESS}/ does not match the manifest's access entry {recorded}. "
            "Apply the access policy again or roll back to another version."
        )
    return access


def _copy_export(encoder: Encoder, target: Path) -> None:
    """An exported encoder travels with the index (a few tens of MB): int8 ranges calibrated
    on one home's corpus exist nowhere else, and another home (a serving machine, MLflow's
    copy) must encode queries exactly as the passages were encoded."""
    export = getattr(document_encoder(encoder), "export_folder", None)
    if export is not None:
        shutil.copytree(export, target / export.parent.name / export.name)


def _encoder_of(folder: Path, model: dict) -> Encoder:
    """The encoder a manifest names, its export read from the index folder when it has one."""
    export_dir = folder / ENCODER if (folder / ENCODER).is_dir() else None
    try:
        return load_encoder(
            model["id"],
            backend=model.get("backend", "torch"),
            export_dir=export_dir,
            # the export the version carries is all that encodes: its model need not load
            weights=model.get("weights_fingerprint"),
            read_only=export_dir is not None,  # the version's files are checksummed
        )
    except Exception as exc:  # noqa: BLE001 - an edited manifest can name anything
        raise IndexLoadError(
            f"index manifest {folder / MANIFEST}: field 'model' names encoder {model['id']!r} "
            f"({model.get('backend', 'torch')}), which cannot be loaded ({type(exc).__name__}: "
            f"{exc}); load it with the encoder that built it or rebuild with `docsearch build`"
        ) from exc


def read_documents(folder: str | Path) -> dict[str, dict]:
    """``{doc_id: {"title", "metadata"}}`` of a saved index, without loading the rest."""
    return {row.pop("id"): row for row in _rows(Path(folder) / DOCUMENTS)}


def _rows(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _recorded_recall(folder: Path, build: dict) -> float | None:
    """The dense index's recall@10 measured when it was built (None: not measured); a manifest
    whose record of it is not a number from 0 to 1 is refused."""
    dense = build.get("dense")
    recall = dense.get("recall_at_10") if isinstance(dense, dict) else None
    if recall is None and (dense is None or isinstance(dense, dict)):
        return None
    if isinstance(recall, bool) or not isinstance(recall, int | float) or not 0 <= recall <= 1:
        raise IndexLoadError(
            f"Index {folder}: its manifest's build.dense.recall_at_10 is not a number from 0 to 1."
            " Rebuild it."
        )
    return float(recall)
