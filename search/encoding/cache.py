"""Embedding cache keyed by (model fingerprint, text hash): unchanged text is never re-encoded."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from search.diskspace import space_for
from search.encoding.encoder import Encoder, ProgressFn


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


ROW_BYTES = 200  # a cached row beside its vector: key, hashes, page and index overhead
OPENING_BYTES = 64 * 1024  # a new cache: its file, its write-ahead log and shared memory


class EmbeddingCache:
    """A SQLite table of float32 vectors; safe to share between processes (WAL). A full disk
    is DiskFull naming the cache's folder; SQLite rolls the write back, so the cache keeps
    what it held."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with space_for(self.path.parent, "the embedding cache", OPENING_BYTES):
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings ("
                " fingerprint TEXT NOT NULL, text_hash TEXT NOT NULL, dim INTEGER NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (fingerprint, text_hash))"
            )
            self._db.commit()

    def get_many(self, fingerprint: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        with self._lock:
            for i in range(0, len(unique), 500):
                part = unique[i : i + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT text_hash, vector FROM embeddings WHERE fingerprint = ? "
                    f"AND text_hash IN ({marks})",
                    [fingerprint, *part],
                ).fetchall()
                for h, blob in rows:
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, fingerprint: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        rows = [
            (fingerprint, h, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
            for h, v in zip(hashes, vectors, strict=True)
        ]
        # written twice (the write-ahead log, then the table), hence 2x
        needed = 2 * sum(len(row[3]) + ROW_BYTES for row in rows)
        with self._lock, space_for(self.path.parent, "the embedding cache", needed):
            try:
                self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", rows)
                self._db.commit()
            except sqlite3.Error:
                self._db.rollback()
                raise

    def close(self) -> None:
        self._db.close()


def embed_with_cache(
    encoder: Encoder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    progress: ProgressFn | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts``, encoding only those the cache lacks. Returns (vectors, n_encoded)."""
    if cache is None:
        return encoder.encode(texts, progress=progress), len(texts)
    hashes = [text_hash(t) for t in texts]
    known = cache.get_many(encoder.fingerprint, hashes)
    missing: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in known and h not in missing:
            missing[h] = t
    if missing:
        miss_hashes = list(missing)
        block = 1024  # write as we go, so an interrupted build keeps what it encoded
        if progress:
            progress(0, len(miss_hashes))  # starts the clock for the time-left estimate
        for i in range(0, len(miss_hashes), block):
            part = miss_hashes[i : i + block]
            vectors = encoder.encode([missing[h] for h in part])
            cache.put_many(encoder.fingerprint, part, vectors)
            known.update(zip(part, vectors, strict=True))
            if progress:
                progress(min(i + block, len(miss_hashes)), len(miss_hashes))
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for row, h in enumerate(hashes):
        out[row] = known[h]
    return out, len(missing)
