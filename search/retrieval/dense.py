"""Dense retrieval over FAISS, the index chosen by size: exact inner product over float32 vectors
up to a threshold; above it HNSW over float32 vectors (the feedback memory) or, for the search
index's large collections, an inverted file over 8-bit scalar codes (IVF-SQ8: a quarter of the
memory of float32, built in one k-means pass, and a filter is applied while its lists are
scanned, so a filter allowing few rows is searched exactly)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

FLAT = "flat_ip"
HNSW = "hnsw_ip"  # HNSW graph over float32 vectors (the feedback memory's large indexes)
IVF_SQ8 = "ivf_sq8_ip"  # inverted file (k-means lists) over 8-bit scalar-quantised vectors
TRAIN_POINTS_PER_LIST = 40  # k-means sample: this many vectors per list (faiss wants 39)
KMEANS_ITERATIONS = 10
PROBED_SHARE = 1 / 64  # lists scanned per query: this share of them, at least MIN_PROBES
MIN_PROBES = 16
# a filter allowing at most this share of the rows is searched exactly: every list is scanned,
# the filter checked before a code is decoded (a probe of a few lists would find too few rows)
EXACT_FILTERED_SHARE = 0.05


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
            index, kind = _ivf_sq8(vectors), IVF_SQ8
        else:
            index, kind = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT), HNSW
        if kind == HNSW:
            index.hnsw.efConstruction = max(40, 2 * hnsw_m)
            index.hnsw.efSearch = ef_search
        index.add(vectors)
        return cls(index, kind)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def describe(self) -> dict:
        """The choice made and its parameters (recorded in a manifest)."""
        out = {"kind": self.kind, "vectors": len(self), "dim": int(self.index.d)}
        if self.kind == IVF_SQ8:
            ivf = faiss.extract_index_ivf(self.index)
            out.update(
                lists=int(ivf.nlist),
                probes=int(ivf.nprobe),
                codes="sq8",
                exact_filtered_share=EXACT_FILTERED_SHARE,
            )
        elif self.kind == HNSW:
            hnsw = self.index.hnsw
            out.update(
                m=int(hnsw.nb_neighbors(1)),
                ef_construction=int(hnsw.efConstruction),
                ef_search=int(hnsw.efSearch),
            )
        return out

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; ``allowed`` (a boolean mask over rows, or row ids)
        restricts the search to those rows inside FAISS, before the top k are chosen. An
        approximate index searches a small allowed share exactly (a scan of its stored vectors,
        the filter checked first)."""
        k = min(k, len(self))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if allowed is None:
            return self.index.search(queries, k)
        bitmap, count = _bitmap(np.asarray(allowed), len(self))
        selector = faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap))
        if self.kind == FLAT:
            return self.index.search(queries, k, params=faiss.SearchParameters(sel=selector))
        exact = count <= EXACT_FILTERED_SHARE * len(self)
        if self.kind == IVF_SQ8:
            ivf = faiss.extract_index_ivf(self.index)
            probes = ivf.nlist if exact else ivf.nprobe
            params = faiss.SearchParametersIVF(sel=selector, nprobe=probes)
            return self.index.search(queries, k, params=params)
        if exact:
            storage = faiss.downcast_index(self.index.storage)
            return storage.search(queries, k, params=faiss.SearchParameters(sel=selector))
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=self.index.hnsw.efSearch)
        return self.index.search(queries, k, params=params)

    def vectors(self) -> np.ndarray:
        """All stored vectors (for reuse in a rebuilt index; decoded from 8-bit codes)."""
        return self.index.reconstruct_n(0, len(self))

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> DenseIndex:
        return cls(faiss.read_index(str(path)), kind)


def _ivf_sq8(vectors: np.ndarray) -> faiss.Index:
    """IVF-SQ8 over ``vectors``: about 2 * sqrt(n) lists (a power of two, fewer when there are
    not 40 vectors a list), spherical k-means on an even sample, 1/64 of the lists probed per
    query (at least 16)."""
    n, dim = vectors.shape
    lists = 1 << int(np.log2(2 * np.sqrt(n)) + 0.5)
    while lists > 1 and lists * TRAIN_POINTS_PER_LIST > n:  # a tiny collection: fewer lists
        lists //= 2
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.niter = KMEANS_ITERATIONS
    index.cp.seed = 1234
    index.cp.spherical = True  # unit vectors, inner product: centroids kept on the sphere
    index.cp.max_points_per_centroid = TRAIN_POINTS_PER_LIST
    index.train(_sample(vectors, lists * TRAIN_POINTS_PER_LIST))
    index.nprobe = min(lists, max(MIN_PROBES, int(lists * PROBED_SHARE)))
    return index


def _sample(vectors: np.ndarray, size: int) -> np.ndarray:
    """At most ``size`` rows, evenly spaced (deterministic)."""
    if len(vectors) <= size:
        return vectors
    return np.ascontiguousarray(vectors[np.linspace(0, len(vectors) - 1, size).astype(np.int64)])


def _bitmap(allowed: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """FAISS's bitmap (bit i of byte i // 8, little-endian) from a boolean mask or row ids, and
    how many rows it allows."""
    if allowed.dtype != bool:
        mask = np.zeros(n, dtype=bool)
        mask[allowed.astype(np.int64)] = True
        allowed = mask
    return np.packbits(allowed, bitorder="little"), int(np.count_nonzero(allowed))
