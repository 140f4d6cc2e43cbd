"""Dense retrieval in a Milvus collection: one row per chunk (its row as the primary key, its
vector), inner product over L2-normalised vectors as in ``search.retrieval.dense``, exact (FLAT)
up to the same size threshold and HNSW above. Answers ``DenseIndex``'s calls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pymilvus import DataType

from search.retrieval.milvus import MILVUS_FLAT, MILVUS_HNSW
from search.retrieval.milvus.connection import (
    CONSISTENCY,
    QUERY_BATCH,
    ROW,
    Collection,
    client,
    index_params,
    new_name,
    read_reference,
    write_reference,
)

VECTOR = "vector"
EF_CONSTRUCTION = 64


class MilvusDenseIndex:
    """Inner-product search over chunk vectors kept in a Milvus collection."""

    def __init__(self, collection: Collection, kind: str, dim: int, params: dict) -> None:
        self.collection = collection
        self.kind = kind
        self.dim = dim
        self.params = params  # the index's parameters (HNSW: M, efConstruction, ef)

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        approximate_above: int,
        uri: str,
        prefix: str,
        hnsw_m: int = 32,
        ef_search: int = 128,
    ) -> MilvusDenseIndex:
        """A new collection holding ``vectors`` (row i is chunk row i), FLAT up to
        ``approximate_above`` rows, HNSW above."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        found = client(uri)
        name = new_name(prefix, "chunks")
        schema = found.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(ROW, DataType.INT64, is_primary=True)
        schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dim)
        if n <= approximate_above:
            kind, index_type, params = MILVUS_FLAT, "FLAT", {}
        else:
            kind, index_type = MILVUS_HNSW, "HNSW"
            params = {"M": hnsw_m, "efConstruction": max(EF_CONSTRUCTION, 2 * hnsw_m)}
        prepared = index_params(found, VECTOR, index_type, "IP", **params)
        found.create_collection(
            name, schema=schema, index_params=prepared, consistency_level=CONSISTENCY
        )
        collection = Collection(uri, name, n)
        collection.insert({ROW: i, VECTOR: v.tolist()} for i, v in enumerate(vectors))
        if kind == MILVUS_HNSW:
            params = {**params, "ef": ef_search}
        return cls(collection, kind, dim, params)

    def __len__(self) -> int:
        return self.collection.rows

    def describe(self) -> dict:
        """The choice made, its parameters and the collection (recorded in a manifest)."""
        return {
            "kind": self.kind,
            "vectors": len(self),
            "dim": self.dim,
            "backend": "milvus",
            "collection": self.collection.name,
            **self.params,
        }

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query, as ``DenseIndex.search``: ``allowed`` (a boolean mask
        over rows, or row ids) restricts the search before the top k are chosen (a filter on
        the row key, inside Milvus); padded with id -1."""
        k = min(k, len(self))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        search_params = {"params": {"ef": max(self.params["ef"], k)}} if "ef" in self.params else {}
        scores, ids = self.collection.search(
            queries.tolist(), VECTOR, k, allowed, float, search_params
        )
        scores[ids < 0] = np.finfo(np.float32).min  # as FAISS pads
        return scores, ids

    def vectors(self) -> np.ndarray:
        """All stored vectors in row order (for reuse in a rebuilt index)."""
        out = np.zeros((len(self), self.dim), dtype=np.float32)
        found = self.collection.client
        for start in range(0, len(self), QUERY_BATCH):
            rows = found.query(
                self.collection.name,
                filter=f"{ROW} >= {start} and {ROW} < {start + QUERY_BATCH}",
                output_fields=[ROW, VECTOR],
            )
            for row in rows:
                out[int(row[ROW])] = row[VECTOR]
        return out

    def save(self, path: Path) -> None:
        """The version's dense file: which collection holds its vectors (nothing is copied)."""
        write_reference(
            path,
            self.collection.reference(kind=self.kind, dim=self.dim, params=self.params),
        )

    @classmethod
    def load(cls, path: Path, kind: str) -> MilvusDenseIndex:
        ref = read_reference(path)
        if ref["kind"] != kind:
            raise ValueError(f"{path} names a {ref['kind']} collection, the manifest {kind}")
        collection = Collection(ref["uri"], ref["collection"], int(ref["rows"])).open()
        return cls(collection, kind, int(ref["dim"]), dict(ref["params"]))
