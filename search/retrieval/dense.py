"""Dense retrieval over FAISS, the index chosen by size: exact inner product over float32 vectors
up to a threshold; above it an approximate index: for the search index's large collections an
inverted file over 8-bit scalar codes (IVF-SQ8: a quarter of the memory of float32, about 256
vectors a list, ``probes`` lists scanned a query), for the feedback memory an HNSW graph over
float32 vectors. Versions written before IVF-SQ8 hold an HNSW graph over 8-bit codes
(HNSW-SQ8); they load and search as they always did. A filter allowing a small share of the rows
is searched exactly over those rows' stored vectors (a walk through mostly excluded rows loses
recall and time). ``recall_at_10`` measures an index against exact search on a sample of its own
vectors; the manifest records it and the promotion gate has a floor for it."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

FLAT = "flat_ip"
HNSW = "hnsw_ip"  # HNSW graph over float32 vectors
HNSW_SQ8 = "hnsw_sq8_ip"  # HNSW graph over 8-bit codes (versions written before IVF-SQ8)
IVF_SQ8 = "ivf_sq8_ip"  # inverted file over 8-bit scalar-quantised vectors
APPROXIMATE = (HNSW, HNSW_SQ8, IVF_SQ8)
TRAIN_SAMPLE = 200_000  # vectors the quantiser learns each dimension's range from
# IVF: lists of about this many vectors (7,812 lists at a million). With about as many lists as a
# collection has topics, k-means leaves a fifth of them without a centre of their own and their
# chunks scatter over a hundred lists (bench-scale at 1M: recall@10 0.90 at 256 a list, 0.99 at
# 128); chosen by measurement (README, "The index at scale"; `evaluation.dense_sweep`)
VECTORS_PER_LIST = 128
KMEANS_SAMPLE_PER_LIST = 24  # k-means learns the centres from at least TRAIN_SAMPLE vectors
EXACT_FILTERED_SHARE = 0.05  # a filter allowing at most this share of rows is searched exactly
RECALL_SAMPLE = 256  # own vectors that measure an approximate index's recall@10 at build time


class DenseIndex:
    """Inner-product search over L2-normalised vectors (cosine similarity)."""

    def __init__(self, index: faiss.Index, kind: str, recall_at_10: float | None = None) -> None:
        self.index = index
        self.kind = kind
        # measured against exact search when built (``measure_recall``); exact search is 1.0
        self.recall_at_10 = 1.0 if kind == FLAT else recall_at_10

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        approximate_above: int,
        hnsw_m: int = 32,
        ef_search: int = 128,
        compress: bool = False,
        probes: int = 64,
        vectors_per_list: int = VECTORS_PER_LIST,
        train_per_list: int = KMEANS_SAMPLE_PER_LIST,
    ) -> DenseIndex:
        """Exact search up to ``approximate_above`` vectors; above, IVF-SQ8 scanning ``probes``
        lists a query when ``compress``, else HNSW over float32 (``hnsw_m``, ``ef_search``).
        Results below the threshold are those of exact search, whatever ``compress`` says.
        ``vectors_per_list`` and ``train_per_list`` are for ``evaluation.dense_sweep``."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) <= approximate_above:
            index, kind = faiss.IndexFlatIP(dim), FLAT
        elif compress:
            lists = max(1, len(vectors) // vectors_per_list)
            index = faiss.IndexIVFScalarQuantizer(
                faiss.IndexFlatIP(dim),
                dim,
                lists,
                faiss.ScalarQuantizer.QT_8bit,
                faiss.METRIC_INNER_PRODUCT,
            )  # spherical k-means (FAISS's choice for inner product) learns the lists' centres
            index.cp.max_points_per_centroid = train_per_list
            index.cp.min_points_per_centroid = min(train_per_list, 16)  # FAISS warns below
            index.train(_sample(vectors, max(TRAIN_SAMPLE, train_per_list * lists)))
            index.nprobe = min(probes, lists)
            index.make_direct_map()  # row -> code, for filtered search and ``vectors``
            kind = IVF_SQ8
        else:
            index, kind = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT), HNSW
            index.hnsw.efConstruction = max(40, 2 * hnsw_m)
            index.hnsw.efSearch = ef_search
        index.add(vectors)
        return cls(index, kind)

    def measure_recall(self, vectors: np.ndarray, sample: int = RECALL_SAMPLE) -> float:
        """Recall@10 against exact search over ``vectors`` (the rows this index holds), with
        ``sample`` of them, evenly spaced, as queries; a query's own row is left out of both
        lists (every index finds a stored vector itself). Recorded as ``recall_at_10``."""
        if self.kind == FLAT:
            return 1.0
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = np.unique(np.linspace(0, len(vectors) - 1, min(sample, len(vectors))).astype(int))
        queries = np.ascontiguousarray(vectors[rows])
        k = min(11, len(vectors))
        _, exact = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
        _, found = self.search(queries, k)
        hits = []
        for row, truth, got in zip(rows.tolist(), exact, found, strict=True):
            truth = [r for r in truth.tolist() if r != row][:10]
            got = {r for r in got.tolist() if r != row}
            hits.append(len(got.intersection(truth)) / max(1, len(truth)))
        self.recall_at_10 = round(float(np.mean(hits)), 4)
        return self.recall_at_10

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def describe(self) -> dict:
        """The choice made, its parameters and its measured recall (recorded in a manifest)."""
        out = {"kind": self.kind, "vectors": len(self), "dim": int(self.index.d)}
        if self.kind in (HNSW, HNSW_SQ8):
            hnsw = self.index.hnsw
            out.update(
                m=int(hnsw.nb_neighbors(1)),
                ef_construction=int(hnsw.efConstruction),
                ef_search=int(hnsw.efSearch),
                codes="sq8" if self.kind == HNSW_SQ8 else "float32",
            )
        elif self.kind == IVF_SQ8:
            out.update(lists=int(self.index.nlist), probes=int(self.index.nprobe), codes="sq8")
        if self.kind != FLAT:
            out["exact_filtered_share"] = EXACT_FILTERED_SHARE
        if self.recall_at_10 is not None:
            out["recall_at_10"] = self.recall_at_10
        return out

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; ``allowed`` (a boolean mask over rows, or row ids)
        restricts the search to those rows, before the top k are chosen: inside FAISS, and for
        an approximate index and a small allowed share exactly over those rows' stored vectors
        (IVF: every list scanned, the other rows' codes skipped; 2 ms at 200,000 chunks and 1%
        allowed, where decoding the rows took 13). IVF scans more lists under a wider filter
        (``probes`` / share allowed), so about as many allowed vectors are scored as without."""
        k = min(k, len(self))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if allowed is None:
            return self.index.search(queries, k)
        allowed = np.asarray(allowed)
        share = 1.0
        if self.kind in (HNSW, HNSW_SQ8):
            rows = np.flatnonzero(allowed) if allowed.dtype == bool else np.unique(allowed)
            if len(rows) <= EXACT_FILTERED_SHARE * len(self):
                return self._search_rows(queries, k, rows.astype(np.int64))
        elif self.kind == IVF_SQ8:
            share = (allowed.sum() if allowed.dtype == bool else len(np.unique(allowed))) / len(
                self
            )
        bitmap = _bitmap(allowed, len(self))
        selector = faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap))
        if self.kind == FLAT:
            params = faiss.SearchParameters(sel=selector)
        elif self.kind == IVF_SQ8:  # a small share: every list, the allowed rows' codes only
            probes = self.index.nlist
            if share > EXACT_FILTERED_SHARE:
                probes = min(probes, int(np.ceil(self.index.nprobe / share)))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=probes)
        else:
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
        """Inner products of ``queries`` with the stored vectors of ``rows``. HNSW-SQ8's codes are
        scored as they are stored (x = vmin + (code + 0.5) / 255 * vdiff, so q.x is an affine
        function of the codes), never decoded one row at a time."""
        if self.kind != HNSW_SQ8:
            return queries @ self.index.reconstruct_batch(rows).T
        storage = faiss.downcast_index(self.index.storage)
        if storage.sq.qtype != faiss.ScalarQuantizer.QT_8bit:
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
    def load(cls, path: Path, kind: str, recall_at_10: float | None = None) -> DenseIndex:
        """The index written at ``path``; ``recall_at_10`` as its manifest recorded it."""
        return cls(faiss.read_index(str(path)), kind, recall_at_10)


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
