"""Chunks and documents of a saved index read from disk on demand, not held as Python objects.

``chunks.jsonl`` and ``documents.jsonl`` stay as they were (one JSON row per chunk, per
document); beside them the ``rows/`` sub-folder holds arrays that index them, so a loaded index
memory-maps both files and parses a row only when a result shows it::

    rows/chunk_lines.npy   int64 [chunks + 1]  byte offset of each line of chunks.jsonl
    rows/chunk_docs.npy    int32 [chunks]      document row of each chunk row
    rows/doc_lines.npy     int64 [documents + 1] byte offset of each line of documents.jsonl
    rows/doc_chunks.npy    int32 [chunks]      chunk rows grouped by document, in order
    rows/doc_starts.npy    int64 [documents + 1] where each document's group starts
    rows/ids.bin           the document ids, UTF-8, one after another (ids_at.npy: offsets)
    rows/id_keys.npy       uint64 [documents]  64-bit hashes of the ids, sorted
    rows/id_rows.npy       int32 [documents]   the document row of each sorted hash
    rows/columns/          metadata columns for filters (``MetadataColumns``)

A folder written before ``rows/`` existed is read the old way, every row parsed at load.
"""

from __future__ import annotations

import hashlib
import json
import mmap
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from search.chunking import Chunk
from search.retrieval import MetadataColumns

ROWS = "rows"
COLUMNS = "columns"


class Lines:
    """Line ``i`` of a file, by byte offsets; the file memory-mapped on first use."""

    def __init__(self, path: Path, offsets: np.ndarray) -> None:
        self.path = path
        self.offsets = offsets
        self._map: mmap.mmap | None = None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> bytes:
        if self._map is None:
            with open(self.path, "rb") as fh:
                self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map[int(self.offsets[i]) : int(self.offsets[i + 1])]

    def __getstate__(self) -> dict:  # picklable: the map is opened again where it is read
        return {"path": self.path, "offsets": np.asarray(self.offsets), "_map": None}


class RowMap:
    """Document rows, chunk rows and the way between them (and from a document id to its row)."""

    def __init__(
        self, doc_ids: Sequence[str], chunk_docs: np.ndarray, doc_chunks: np.ndarray,
        doc_starts: np.ndarray, lookup: Mapping[str, int],
    ) -> None:  # fmt: skip
        self.doc_ids = doc_ids  # row order of the BM25 index
        self.chunk_docs = chunk_docs  # document row of every chunk row
        self._doc_chunks = doc_chunks
        self._doc_starts = doc_starts
        self._lookup = lookup

    @classmethod
    def of(cls, doc_ids: Sequence[str], chunk_doc_ids: Sequence[str]) -> RowMap:
        """The map of documents held in memory, from each chunk's document id."""
        doc_ids = list(doc_ids)
        row_of = {d: i for i, d in enumerate(doc_ids)}
        chunk_docs = np.array([row_of[d] for d in chunk_doc_ids], dtype=np.int64)
        order = np.argsort(chunk_docs, kind="stable")
        starts = np.searchsorted(chunk_docs[order], np.arange(len(doc_ids) + 1))
        return cls(doc_ids, chunk_docs, order, starts, row_of)

    def row_of(self, doc_id: str) -> int | None:
        return self._lookup.get(doc_id)

    def chunk_rows(self, doc_row: int) -> list[int]:
        """Rows of a document's chunks, in order."""
        lo, hi = int(self._doc_starts[doc_row]), int(self._doc_starts[doc_row + 1])
        return [int(r) for r in self._doc_chunks[lo:hi]]


class StoredRows(Sequence):
    """Rows of a file of lines (``Lines``), each made into a value (``parse``) when asked for;
    slices and negative indexes as a list has them."""

    def __init__(self, lines: Lines) -> None:
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.parse(i, self._lines[i])

    def parse(self, i: int, line: bytes):
        raise NotImplementedError


class StoredIds(StoredRows):
    """Document ids in row order, decoded from ``ids.bin`` one at a time."""

    def parse(self, i: int, line: bytes) -> str:
        return line.decode("utf-8")


class HashedLookup(Mapping):
    """Document id -> row through sorted 64-bit hashes (16 bytes a document, no dict)."""

    def __init__(self, ids: StoredIds, keys: np.ndarray, rows: np.ndarray) -> None:
        self._ids, self._keys, self._rows = ids, keys, rows

    def get(self, doc_id, default=None):
        if not isinstance(doc_id, str):
            return default
        key = np.uint64(id_key(doc_id))
        lo = int(np.searchsorted(self._keys, key, side="left"))
        while lo < len(self._keys) and self._keys[lo] == key:
            row = int(self._rows[lo])
            if self._ids[row] == doc_id:
                return row
            lo += 1
        return default

    def __getitem__(self, doc_id: str) -> int:
        row = self.get(doc_id)
        if row is None:
            raise KeyError(doc_id)
        return row

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class StoredDocuments(Mapping):
    """``{doc_id: {"title", "metadata"}}`` of a saved index, each row parsed when asked for."""

    def __init__(self, lines: Lines, rows: RowMap, columns: MetadataColumns | None) -> None:
        self._lines = lines
        self.rows = rows
        self.columns = columns  # what filters read instead of every document's metadata

    def at(self, row: int) -> dict:
        info = json.loads(self._lines[row])
        info.pop("id")
        return info

    def __getitem__(self, doc_id: str) -> dict:
        row = self.rows.row_of(doc_id)
        if row is None:
            raise KeyError(doc_id)
        return self.at(row)

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self.rows.row_of(doc_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows.doc_ids)

    def __len__(self) -> int:
        return len(self.rows.doc_ids)


class StoredChunks(StoredRows):
    """The chunks of a saved index in dense-index row order, each parsed when asked for."""

    def __init__(self, lines: Lines, documents: StoredDocuments) -> None:
        super().__init__(lines)
        self.documents = documents
        self.rows = documents.rows

    def file_bytes(self) -> int:
        """The size of the JSON lines file the chunks are read from."""
        return int(self._lines.offsets[-1])

    def parse(self, i: int, line: bytes) -> Chunk:
        metadata = self.documents.at(int(self.rows.chunk_docs[i]))["metadata"]
        return Chunk(**json.loads(line), metadata=metadata)


def id_key(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "little")


def write_rows(
    folder: Path, chunks_file: Path, documents_file: Path, chunks: Sequence[Chunk],
    documents: Mapping[str, dict],
) -> None:  # fmt: skip
    """Write ``chunks_file`` and ``documents_file`` (JSON lines) and ``rows/`` beside them."""
    rows = folder / ROWS
    rows.mkdir()
    doc_ids = list(documents)
    _save(rows, "chunk_lines", _write_lines(chunks_file, (c.to_dict() for c in chunks)))
    docs = ({"id": d, **documents[d]} for d in doc_ids)
    _save(rows, "doc_lines", _write_lines(documents_file, docs))
    index = RowMap.of(doc_ids, [c.doc_id for c in chunks])
    _save(rows, "chunk_docs", index.chunk_docs.astype(np.int32))
    _save(rows, "doc_chunks", index._doc_chunks.astype(np.int32))
    _save(rows, "doc_starts", index._doc_starts.astype(np.int64))
    encoded = [d.encode() for d in doc_ids]
    (rows / "ids.bin").write_bytes(b"".join(encoded))
    _save(rows, "ids_at", np.cumsum([0, *map(len, encoded)], dtype=np.int64))
    keys = np.fromiter((id_key(d) for d in doc_ids), dtype=np.uint64, count=len(doc_ids))
    order = np.argsort(keys, kind="stable")
    _save(rows, "id_keys", keys[order])
    _save(rows, "id_rows", order.astype(np.int32))
    MetadataColumns.build(documents[d]["metadata"] for d in doc_ids).save(rows / COLUMNS)


def read_rows(
    folder: Path, chunks_file: Path, documents_file: Path
) -> tuple[StoredChunks, StoredDocuments] | None:
    """The chunks and documents of a saved index, read on demand; None without ``rows/``."""
    rows = folder / ROWS
    if not rows.is_dir():
        return None
    ids = StoredIds(Lines(rows / "ids.bin", _load(rows, "ids_at")))
    lookup = HashedLookup(ids, _load(rows, "id_keys"), _load(rows, "id_rows"))
    index = RowMap(
        ids, _load(rows, "chunk_docs"), _load(rows, "doc_chunks"), _load(rows, "doc_starts"),
        lookup,
    )  # fmt: skip
    columns = MetadataColumns.load(rows / COLUMNS)
    documents = StoredDocuments(Lines(documents_file, _load(rows, "doc_lines")), index, columns)
    return StoredChunks(Lines(chunks_file, _load(rows, "chunk_lines")), documents), documents


def _write_lines(path: Path, records) -> np.ndarray:
    """Write one JSON row per record; the byte offset of every line and of the end."""
    offsets = [0]
    with open(path, "wb") as fh:
        for record in records:
            line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            fh.write(line)
            offsets.append(offsets[-1] + len(line))
    return np.array(offsets, dtype=np.int64)


def _save(folder: Path, name: str, array: np.ndarray) -> None:
    np.save(folder / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)


def _load(folder: Path, name: str) -> np.ndarray:
    """An array read into memory: a few bytes a row, indexed row by row on every query."""
    return np.load(folder / f"{name}.npy", allow_pickle=False)
