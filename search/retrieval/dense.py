"""Dense retrieval over FAISS: exact inner product when small, HNSW above a threshold."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

FLAT = "flat_ip"
HNSW = "hnsw_ip"


class DenseIndex:
    """Inner-product search over L2-normalised vectors (cosine similarity)."""

    def __init__(self, index: faiss.Index, kind: str) -> None:
        self.index = index
        self.kind = kind

    @classmethod
    def build(
        cls, vectors: np.ndarray, approximate_above: int, hnsw_m: int = 32, ef_search: int = 128
    ) -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) > approximate_above:
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = max(40, 2 * hnsw_m)
            index.hnsw.efSearch = ef_search
            kind = HNSW
        else:
            index = faiss.IndexFlatIP(dim)
            kind = FLAT
        index.add(vectors)
        return cls(index, kind)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; ``allowed`` (a boolean mask over rows, or row ids)
        restricts the search to those rows inside FAISS, before the top k are chosen."""
        k = min(k, len(self))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        params = None
        if allowed is not None:
            bitmap = _bitmap(np.asarray(allowed), len(self))
            selector = faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap))
            if self.kind == HNSW:
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=self.index.hnsw.efSearch)
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self.index.search(queries, k, params=params)
        return scores, ids

    def vectors(self) -> np.ndarray:
        """All stored vectors (for reuse in a rebuilt index)."""
        return self.index.reconstruct_n(0, len(self))

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> DenseIndex:
        return cls(faiss.read_index(str(path)), kind)


def _bitmap(allowed: np.ndarray, n: int) -> np.ndarray:
    """FAISS's bitmap (bit i of byte i // 8, little-endian) from a boolean mask or row ids."""
    if allowed.dtype != bool:
        mask = np.zeros(n, dtype=bool)
        mask[allowed.astype(np.int64)] = True
        allowed = mask
    return np.packbits(allowed, bitorder="little")
