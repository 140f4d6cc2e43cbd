"""Dense retrieval over FAISS, the index chosen by size: exact inner product over float32 vectors
up to a threshold; above it an HNSW graph, over float32 vectors (the feedback memory) or, for the
search index's large collections, over 8-bit scalar codes (HNSW-SQ8: a quarter of the memory of
float32). A filter allowing a small share of the rows is searched exactly over those rows' stored
vectors (a graph walk through mostly excluded rows loses recall and time)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

FLAT = "flat_ip"
HNSW = "hnsw_ip"  # HNSW graph over float32 vectors
HNSW_SQ8 = "hnsw_sq8_ip"  # HNSW graph over 8-bit scalar-quantised vectors
TRAIN_SAMPLE = 200_000  # vectors the quantiser learns each dimension's range from
# links cost 8 * M bytes a vector at the graph's base level: at M = 16 a third of the 8-bit codes
# (384 bytes at 384 dimensions), at 32 two thirds; the compressed index keeps M at most this
MAX_COMPRESSED_M = 16
EF_CONSTRUCTION = 40
EXACT_FILTERED_SHARE = 0.05  # a filter allowing at most this share of rows is searched exactly


class DenseIndex:
    """Inner-product search over L2-normalised vectors (cosine similarity)."""

    def __init__(self, index: faiss.Index, kind: str) -> None:
        self.index = index
        self.kind = kind

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        approximate_above: int,
        hnsw_m: int = 32,
        ef_search: int = 128,
        compress: bool = False,
    ) -> DenseIndex:
        """Exact search up to ``approximate_above`` vectors; HNSW above (over 8-bit codes when
        ``compress``). Results below the threshold are those of exact search, whatever
        ``compress`` says."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) <= approximate_above:
            index, kind = faiss.IndexFlatIP(dim), FLAT
        elif compress:
            m = min(hnsw_m, MAX_COMPRESSED_M)
            index = faiss.IndexHNSWSQ(
                dim, faiss.ScalarQuantizer.QT_8bit, m, faiss.METRIC_INNER_PRODUCT
            )
            index.train(_sample(vectors, TRAIN_SAMPLE))
            index.hnsw.efConstruction = EF_CONSTRUCTION
            kind = HNSW_SQ8
        else:
            index, kind = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT), HNSW
            index.hnsw.efConstruction = max(40, 2 * hnsw_m)
        if kind != FLAT:
            index.hnsw.efSearch = ef_search
        index.add(vectors)
        return cls(index, kind)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def describe(self) -> dict:
        """The choice made and its parameters (recorded in a manifest)."""
        out = {"kind": self.kind, "vectors": len(self), "dim": int(self.index.d)}
        if self.kind != FLAT:
            hnsw = self.index.hnsw
            out.update(
                m=int(hnsw.nb_neighbors(1)),
                ef_construction=int(hnsw.efConstruction),
                ef_search=int(hnsw.efSearch),
                codes="sq8" if self.kind == HNSW_SQ8 else "float32",
                exact_filtered_share=EXACT_FILTERED_SHARE,
            )
        return out

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; ``allowed`` (a boolean mask over rows, or row ids)
        restricts the search to those rows, before the top k are chosen: inside FAISS, or, for
        an HNSW index and a small allowed share, exactly over those rows' stored vectors."""
        k = min(k, len(self))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if allowed is None:
            return self.index.search(queries, k)
        allowed = np.asarray(allowed)
        if self.kind != FLAT:
            rows = np.flatnonzero(allowed) if allowed.dtype == bool else np.unique(allowed)
            if len(rows) <= EXACT_FILTERED_SHARE * len(self):
                return self._search_rows(queries, k, rows.astype(np.int64))
        bitmap = _bitmap(allowed, len(self))
        selector = faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap))
        if self.kind == FLAT:
            return self.index.search(queries, k, params=faiss.SearchParameters(sel=selector))
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=self.index.hnsw.efSearch)
        return self.index.search(queries, k, params=params)

    def _search_rows(
        self, queries: np.ndarray, k: int, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k among ``rows`` only: their stored vectors decoded (a few thousand of a
        million), scored, and the best kept; equal scores by row. Padded with id -1 like FAISS."""
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if len(rows) == 0:
            return scores, ids
        found = self._scores_of(queries, rows)
        take = min(k, len(rows))
        for i, row_scores in enumerate(found):
            best = np.lexsort((rows, -row_scores))[:take]
            scores[i, :take], ids[i, :take] = row_scores[best], rows[best]
        return scores, ids

    def _scores_of(self, queries: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Inner products of ``queries`` with the stored vectors of ``rows``. 8-bit codes are
        scored as they are stored (x = vmin + (code + 0.5) / 255 * vdiff, so q.x is an affine
        function of the codes), never decoded one row at a time."""
        storage = faiss.downcast_index(self.index.storage)
        if self.kind != HNSW_SQ8 or storage.sq.qtype != faiss.ScalarQuantizer.QT_8bit:
            return queries @ self.index.reconstruct_batch(rows).T
        n, dim = storage.ntotal, storage.d
        codes = faiss.rev_swig_ptr(storage.codes.data(), n * storage.code_size)
        trained = faiss.vector_to_array(storage.sq.trained)
        low, width = trained[:dim], trained[dim : 2 * dim]
        weights = queries * (width / 255.0)
        bias = queries @ low + 0.5 * weights.sum(axis=1)
        picked = codes.reshape(n, storage.code_size)[rows].astype(np.float32)
        return (picked @ weights.T.astype(np.float32) + bias.astype(np.float32)).T

    def vectors(self) -> np.ndarray:
        """All stored vectors (for reuse in a rebuilt index; decoded from 8-bit codes)."""
        return self.index.reconstruct_n(0, len(self))

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> DenseIndex:
        return cls(faiss.read_index(str(path)), kind)


def _sample(vectors: np.ndarray, size: int) -> np.ndarray:
    """At most ``size`` rows, evenly spaced (deterministic)."""
    if len(vectors) <= size:
        return vectors
    return np.ascontiguousarray(vectors[np.linspace(0, len(vectors) - 1, size).astype(np.int64)])


def _bitmap(allowed: np.ndarray, n: int) -> np.ndarray:
    """FAISS's bitmap (bit i of byte i // 8, little-endian) from a boolean mask or row ids."""
    if allowed.dtype != bool:
        mask = np.zeros(n, dtype=bool)
        mask[allowed.astype(np.int64)] = True
        allowed = mask
    return np.packbits(allowed, bitorder="little")
