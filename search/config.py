"""Index configuration: one frozen dataclass with the defaults the product ships with."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum


class Method(StrEnum):
    """Retrieval method."""

    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"


class Fusion(StrEnum):
    """How hybrid retrieval merges the sparse and dense rankings (search/retrieval/fusion.py):
    reciprocal ranks, min-max normalised scores, z-scores (each list standardised by its own
    mean and spread), or the calibrated probability of relevance from both lists' evidence
    (search/retrieval/relevance.py)."""

    RRF = "rrf"
    WEIGHTED = "weighted"
    ZSCORE = "zscore"
    RELEVANCE = "relevance"


DEFAULT_MODEL = "all-MiniLM-L6-v2"
# How the CPU runs the encoder by default (a ``search.encoding.Backend`` name; "torch" is plain
# sentence-transformers). Chosen by `evaluation.encoding_speed`: see the README's performance table.
DEFAULT_ENCODER_BACKEND = "openvino-int8"


@dataclass(frozen=True)
class IndexConfig:
    """Everything that decides how an index is built and queried.

    Build-time fields (model, chunking, BM25, FAISS) are fixed once an index is written;
    query-time fields (fusion, weights, depth) are defaults that a caller may override.
    """

    model: str = DEFAULT_MODEL  # a hub name, a local path, or DEFAULT_MODEL (the packaged weights)
    encoder_backend: str = DEFAULT_ENCODER_BACKEND  # runtime and precision of the encoder
    chunk_tokens: int = 256  # tokens per chunk, the encoder's own tokenizer
    chunk_overlap: int = 48  # tokens shared by consecutive chunks
    title_in_chunks: bool = True  # prefix every chunk with its document title
    bm25_k1: float = 1.5  # tuned on SciFact train (document-level BM25; k1 0.9-1.5, b 0.4-0.75 tie)
    bm25_b: float = 0.75
    bm25_method: str = "lucene"
    stemmer: str = "english"
    stopwords: str = "en"
    fusion: Fusion = (
        Fusion.RELEVANCE
    )  # learned on the tune parts of several collections (README: fusion)
    rrf_k: int = 60
    dense_weight: float = 0.5  # weight of the dense score in weighted/zscore fusion (1 - it for BM25); 0.5 = equal, what zscore needs untuned; weighted: tuned on SciFact train (0.3-0.7)
    memory_weight: float = 1.0  # feedback memory (search/memory.py): added to the fused score at full strength; 0 turns it off
    memory_threshold: float = 0.5  # cosine below which an earlier question recalls nothing (both chosen on SciFact train claims held back from feedback)
    memory_neighbours: int = 10  # earlier questions consulted per query
    candidates: int = 200  # chunks fetched from each retriever before fusion
    approximate_above: int = 200_000  # chunks; above this the dense index is HNSW, below exact
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    batch_size: int = 64
    # where the dense and BM25 indexes live: "faiss" (FAISS and bm25s files in the version
    # folder) or "milvus" (collections at milvus_uri, named in the version's files)
    index_backend: str = "faiss"
    milvus_uri: str = ""  # a Milvus server's address, or a Milvus Lite file
    milvus_collection_prefix: str = "docsearch"

    def to_dict(self) -> dict:
        return {
            k: (v.value if isinstance(v, StrEnum) else v)
            for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: dict) -> IndexConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "model" in values:  # a config written before backends existed was encoded by PyTorch
            values.setdefault("encoder_backend", "torch")
        if "fusion" in values:
            values["fusion"] = Fusion(values["fusion"])
        return cls(**values)

    def replace(self, **changes) -> IndexConfig:
        return dataclasses.replace(self, **changes)

    def build_fingerprint(self) -> str:
        """Hash of the fields that change the built artefacts (chunks, BM25, FAISS). The encoder
        backend is not among them: the encoder's fingerprint already differs per backend and is
        compared on its own, so versions written before backends existed keep their hash."""
        build_keys = (
            "model chunk_tokens chunk_overlap title_in_chunks bm25_k1 bm25_b bm25_method "
            "stemmer stopwords approximate_above hnsw_m"
        ).split()
        if self.index_backend != "faiss":  # versions on FAISS keep the hash they always had
            build_keys.append("index_backend")
        payload = json.dumps({k: self.to_dict()[k] for k in build_keys}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
