"""The search index: chunks, a FAISS dense index and a BM25 index, fused into document results."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from search.chunking import Chunk, chunk_documents
from search.config import Fusion, IndexConfig, Method
from search.encoding import (
    EmbeddingCache,
    Encoder,
    embed_with_cache,
    load_encoder,
    query_fingerprint,
)
from search.ingest import Document
from search.retrieval import (
    ChoiceMemory,
    DenseIndex,
    Filters,
    Snippet,
    SparseIndex,
    make_snippet,
    rrf,
    weighted,
)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEMORY = "memory"  # sub-folder holding the feedback memory, when the index has one
ProgressFn = Callable[[str, int, int], None]  # (stage, done, total)


class IndexLoadError(Exception):
    """An index that cannot be used: missing, corrupt, or built for another encoder."""


@dataclass(frozen=True)
class SearchResult:
    """One document in a ranked list, with the passage that matched best."""

    doc_id: str
    title: str
    score: float
    rank: int  # 1-based
    bm25_score: float | None
    dense_score: float | None
    chunk_id: str
    snippet: Snippet
    metadata: dict
    memory_score: float | None = None  # recalled from feedback on similar questions (0-1)


@dataclass(frozen=True)
class BuildStats:
    documents: int
    chunks: int
    chunks_embedded: int
    chunks_reused: int
    seconds: float
    encode_seconds: float


class SearchIndex:
    """Hybrid retrieval over one collection. Build it, save it, load it, search it."""

    def __init__(
        self,
        config: IndexConfig,
        encoder: Encoder,
        chunks: list[Chunk],
        documents: dict[str, dict],
        dense: DenseIndex,
        sparse: SparseIndex,
        manifest: dict | None = None,
        memory: ChoiceMemory | None = None,
    ) -> None:
        self.config = config
        self.encoder = encoder
        self.chunks = chunks
        self.documents = documents  # doc_id -> {"title", "metadata"}
        self.dense = dense
        self.sparse = sparse
        self.manifest = manifest or {}
        self.memory = memory  # documents users chose for earlier questions (hybrid search only)
        self.build_stats: BuildStats | None = None
        self.doc_ids = list(documents)  # row order of the BM25 index
        self._chunk_doc = np.array([c.doc_id for c in chunks], dtype=object)
        self._doc_chunks: dict[str, list[int]] = {}
        for row, chunk in enumerate(chunks):
            self._doc_chunks.setdefault(chunk.doc_id, []).append(row)

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        config: IndexConfig,
        encoder: Encoder,
        cache: EmbeddingCache | None = None,
        progress: ProgressFn | None = None,
    ) -> SearchIndex:
        """Chunk, embed (through the cache) and index ``documents``."""
        started = time.perf_counter()
        if not documents:
            raise ValueError("No documents to index: check the folder and the parse report.")
        ids = [d.id for d in documents]
        if len(set(ids)) != len(ids):
            raise ValueError("Document ids must be unique.")
        chunks = chunk_documents(documents, encoder, config.chunk_tokens, config.chunk_overlap)
        if not chunks:
            raise ValueError("The documents contain no text to index.")
        texts = [c.embedding_text(config.title_in_chunks) for c in chunks]
        encode_started = time.perf_counter()
        vectors, n_encoded = embed_with_cache(
            encoder, texts, cache, (lambda d, t: progress("embed", d, t)) if progress else None
        )
        encode_seconds = time.perf_counter() - encode_started
        dense = DenseIndex.build(
            vectors, config.approximate_above, config.hnsw_m, config.hnsw_ef_search
        )
        # BM25 scores whole documents (length normalisation over the document, as Lucene does);
        # the dense index scores chunks, max-pooled per document at query time.
        sparse = _bm25([f"{d.title}\n{d.text}" for d in documents], config)
        docs = {d.id: {"title": d.title, "metadata": dict(d.metadata)} for d in documents}
        index = cls(config, encoder, chunks, docs, dense, sparse)
        index.build_stats = BuildStats(
            documents=len(documents),
            chunks=len(chunks),
            chunks_embedded=n_encoded,
            chunks_reused=len(chunks) - n_encoded,
            seconds=time.perf_counter() - started,
            encode_seconds=encode_seconds,
        )
        return index

    def with_encoder(
        self,
        encoder: Encoder,
        cache: EmbeddingCache | None = None,
        progress: ProgressFn | None = None,
    ) -> SearchIndex:
        """The same chunks and BM25 index with dense vectors from another encoder.

        When ``encoder`` encodes passages with the same weights as this index's encoder (only its
        query side differs), the dense index is shared as it is: nothing is re-encoded.
        """
        started = time.perf_counter()
        if encoder.fingerprint == self.encoder.fingerprint and encoder.dim == self.encoder.dim:
            dense, n_encoded = self.dense, 0
        else:
            texts = [c.embedding_text(self.config.title_in_chunks) for c in self.chunks]
            vectors, n_encoded = embed_with_cache(
                encoder, texts, cache, (lambda d, t: progress("embed", d, t)) if progress else None
            )
            dense = DenseIndex.build(
                vectors,
                self.config.approximate_above,
                self.config.hnsw_m,
                self.config.hnsw_ef_search,
            )
        encode_seconds = time.perf_counter() - started
        config = self.config.replace(model=encoder.model_id)
        memory = self.memory.for_encoder(encoder) if self.memory else None
        index = SearchIndex(
            config, encoder, self.chunks, self.documents, dense, self.sparse, memory=memory
        )
        index.build_stats = BuildStats(
            len(self.documents),
            len(self.chunks),
            n_encoded,
            len(self.chunks) - n_encoded,
            time.perf_counter() - started,
            encode_seconds,
        )
        return index

    def with_memory(self, memory: ChoiceMemory | None) -> SearchIndex:
        """This index remembering ``memory`` (None forgets): hybrid search recalls the
        documents users chose for similar questions, and BM25 indexes each document's text
        together with the questions users chose it for (document expansion from the query log).
        BM25 is rebuilt from the documents' own text, so a new memory replaces the old one's
        words, never adds to them; chunks and dense vectors are shared as they are."""
        memory = memory.for_encoder(self.encoder) if memory is not None and len(memory) else None
        sparse = self.sparse
        if memory is not None or self.memory is not None:
            asked = memory.questions_by_document() if memory is not None else {}
            texts = (
                "\n".join([self.documents[d]["title"], self.document_text(d), *asked.get(d, ())])
                for d in self.doc_ids
            )
            sparse = _bm25(list(texts), self.config)
        index = SearchIndex(
            self.config,
            self.encoder,
            self.chunks,
            self.documents,
            self.dense,
            sparse,
            memory=memory,
        )
        index.build_stats = self.build_stats
        return index

    def document_text(self, doc_id: str) -> str:
        """A document's indexed text, put back together from its chunks (overlaps removed)."""
        parts: list[str] = []
        covered = 0
        for chunk in self.chunks_of(doc_id):
            if parts and chunk.start > covered:
                parts.append(" ")
            parts.append(chunk.text[max(0, covered - chunk.start) :])
            covered = max(covered, chunk.end)
        return "".join(parts)

    # ----------------------------------------------------------------- search
    def search(
        self,
        query: str,
        k: int = 10,
        method: Method | str | None = None,
        filters: Filters | None = None,
        fusion: Fusion | str | None = None,
        dense_weight: float | None = None,
    ) -> list[SearchResult]:
        """Top-k documents for one query."""
        return self.search_many({"q": query}, k, method, filters, fusion, dense_weight)["q"]

    def search_many(
        self,
        queries: Mapping[str, str],
        k: int = 10,
        method: Method | str | None = None,
        filters: Filters | None = None,
        fusion: Fusion | str | None = None,
        dense_weight: float | None = None,
        with_snippets: bool = True,
    ) -> dict[str, list[SearchResult]]:
        """Top-k documents for each query (batched encoding and BM25)."""
        method = Method(method or Method.HYBRID)
        fusion = Fusion(fusion or self.config.fusion)
        weight = self.config.dense_weight if dense_weight is None else dense_weight
        qids = list(queries)
        texts = [queries[q] or "" for q in qids]
        allowed_docs, allowed_chunks = self._allowed_rows(filters)
        if allowed_docs is not None and len(allowed_docs) == 0:
            return {q: [] for q in qids}
        depth = max(self.config.candidates, 3 * k)
        sparse_hits: list[dict[int, float]] = [{} for _ in qids]
        dense_hits: list[dict[int, float]] = [{} for _ in qids]
        recalled: list[dict[str, float]] = [{} for _ in qids]
        if method in (Method.BM25, Method.HYBRID):
            scores, rows = self.sparse.search(texts, depth, allowed_docs)
            sparse_hits = [_hits(r, s) for r, s in zip(rows, scores, strict=True)]
        if method in (Method.DENSE, Method.HYBRID):
            vectors = self.encoder.encode_queries(texts)
            scores, rows = self.dense.search(vectors, depth, allowed_chunks)
            dense_hits = [_hits(r, s) for r, s in zip(rows, scores, strict=True)]
            if method == Method.HYBRID and self.memory and self.config.memory_weight > 0:
                allowed = None if allowed_docs is None else {self.doc_ids[r] for r in allowed_docs}
                recalled = self.memory.recall(
                    vectors,
                    self.config.memory_threshold,
                    self.config.memory_neighbours,
                    allowed=allowed,
                )
        out = {}
        for i, qid in enumerate(qids):
            sparse_docs = {self.doc_ids[row]: score for row, score in sparse_hits[i].items()}
            dense_docs, dense_best = self._by_document(dense_hits[i])
            if method == Method.BM25:
                fused = sparse_docs
            elif method == Method.DENSE:
                fused = dense_docs
            elif fusion == Fusion.RRF:
                fused = rrf([sparse_docs, dense_docs], k=self.config.rrf_k)
            else:
                fused = weighted([sparse_docs, dense_docs], [1.0 - weight, weight])
            remembered = {d: s for d, s in recalled[i].items() if d in self.documents}
            if remembered:
                fused = self._with_memory(fused, remembered, fusion)
            ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
            terms = self.sparse.terms(texts[i]) if with_snippets else set()
            results = []
            for rank, (doc_id, score) in enumerate(ranked, start=1):
                row = dense_best.get(doc_id)
                if row is None:
                    row = self._best_chunk_by_terms(doc_id, terms)
                chunk = self.chunks[row]
                doc = self.documents[doc_id]
                results.append(
                    SearchResult(
                        doc_id=doc_id,
                        title=doc["title"],
                        score=float(score),
                        rank=rank,
                        bm25_score=sparse_docs.get(doc_id),
                        dense_score=dense_docs.get(doc_id),
                        chunk_id=chunk.id,
                        snippet=self._snippet(chunk.text, terms)
                        if with_snippets
                        else Snippet("", ()),
                        metadata=doc["metadata"],
                        memory_score=remembered.get(doc_id),
                    )
                )
            out[qid] = results
        return out

    def run(
        self,
        queries: Mapping[str, str],
        k: int = 100,
        method: Method | str | None = None,
        **options,
    ) -> dict[str, dict[str, float]]:
        """A BEIR-style run ``{qid: {doc_id: score}}`` for evaluation."""
        results = self.search_many(queries, k, method, with_snippets=False, **options)
        return {q: {r.doc_id: r.score for r in rs} for q, rs in results.items()}

    def _with_memory(
        self, fused: dict[str, float], remembered: dict[str, float], fusion: Fusion
    ) -> dict[str, float]:
        """Fused scores with the feedback memory's recall added: ``memory_weight`` times the
        strength on the weighted fusion's 0-1 scale; under RRF a third ranked list with that
        weight."""
        weight = self.config.memory_weight
        if fusion == Fusion.RRF:
            extra = rrf([remembered], k=self.config.rrf_k, weights=[weight])
        else:
            extra = {d: weight * s for d, s in remembered.items()}
        return {d: fused.get(d, 0.0) + extra.get(d, 0.0) for d in fused.keys() | extra.keys()}

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """A document's chunks in order (empty when the document is not indexed)."""
        return [self.chunks[row] for row in self._doc_chunks.get(doc_id, [])]

    def _allowed_rows(self, filters: Filters | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(BM25 document rows, dense chunk rows) that the filters allow; None = everything."""
        if filters is None or filters.is_empty():
            return None, None
        docs = [
            i for i, d in enumerate(self.doc_ids) if filters.matches(self.documents[d]["metadata"])
        ]
        chunks = [r for i in docs for r in self._doc_chunks.get(self.doc_ids[i], [])]
        return np.array(docs, dtype=np.int64), np.array(chunks, dtype=np.int64)

    def _best_chunk_by_terms(self, doc_id: str, terms: set[str]) -> int:
        """The document's chunk containing most query terms (first chunk on a tie)."""
        rows = self._doc_chunks[doc_id]
        if len(rows) == 1 or not terms:
            return rows[0]
        counts = [len(terms & set(self.sparse.tokenize([self.chunks[r].text])[0])) for r in rows]
        return rows[int(np.argmax(counts))]

    def _by_document(self, hits: dict[int, float]) -> tuple[dict[str, float], dict[str, int]]:
        """Max-pool chunk scores into document scores; remember each document's best chunk."""
        scores: dict[str, float] = {}
        best: dict[str, int] = {}
        for row, score in hits.items():
            doc_id = self._chunk_doc[row]
            if doc_id not in scores or score > scores[doc_id]:
                scores[doc_id] = score
                best[doc_id] = row
        return scores, best

    def _snippet(self, text: str, terms: set[str]) -> Snippet:
        stemmer = self.sparse._stemmer
        normalise = stemmer.stemWord if stemmer else (lambda w: w)
        return make_snippet(text, terms, normalise)

    # ------------------------------------------------------------- save / load
    def save(self, folder: str | Path) -> Path:
        """Write the index into an empty ``folder`` (see ``IndexStore`` for atomic versions)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=False)
        self.dense.save(folder / "dense.faiss")
        self.sparse.save(folder / "sparse")
        with open(folder / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for c in self.chunks:
                fh.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
        with open(folder / "documents.jsonl", "w", encoding="utf-8") as fh:
            for doc_id, info in self.documents.items():
                fh.write(json.dumps({"id": doc_id, **info}, ensure_ascii=False) + "\n")
        if self.memory is not None:
            self.memory.save(folder / MEMORY)
        files = {
            str(p.relative_to(folder)): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()
        }
        stats = self.build_stats
        self.manifest = {
            "format_version": FORMAT_VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": self.config.to_dict(),
            "config_fingerprint": self.config.build_fingerprint(),
            "model": encoder_identity(self.encoder),
            "dense_index": self.dense.kind,
            "counts": {"documents": len(self.documents), "chunks": len(self.chunks)},
            "corpus_fingerprint": corpus_fingerprint(self.documents),
            "build": stats.__dict__ if stats else {},
            "memory": self.memory.describe() if self.memory is not None else None,
            "files": files,
        }
        (folder / MANIFEST).write_text(json.dumps(self.manifest, indent=2))
        return folder

    @classmethod
    def load(cls, folder: str | Path, encoder: Encoder | None = None) -> SearchIndex:
        """Load a saved index, verifying its manifest and checksums before reading any file."""
        folder = Path(folder)
        manifest = read_manifest(folder)
        for name, expected in manifest["files"].items():
            path = folder / name
            if not path.is_file():
                raise IndexLoadError(
                    f"Index {folder} is incomplete: {name} is missing. Rebuild it."
                )
            if _sha256(path) != expected:
                raise IndexLoadError(
                    f"Index {folder} is corrupt: checksum of {name} does not match the manifest. "
                    "Rebuild it or roll back to another version."
                )
        model = manifest["model"]
        encoder = encoder or load_encoder(model["id"])
        if not encoder_matches(model, encoder):
            given = encoder_identity(encoder)
            raise IndexLoadError(
                f"Index {folder} was built with encoder {model['id']} (fingerprint "
                f"{model['fingerprint']}, query fingerprint {_query_side(model)}, dim "
                f"{model['dim']}) but the encoder given is {given['id']} (fingerprint "
                f"{given['fingerprint']}, query fingerprint {given['query_fingerprint']}, dim "
                f"{given['dim']}). Load it with the matching encoder or rebuild the index."
            )
        config = IndexConfig.from_dict(manifest["config"])
        documents = {}
        with open(folder / "documents.jsonl", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                documents[row.pop("id")] = row
        chunks = []
        with open(folder / "chunks.jsonl", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                chunks.append(Chunk(**row, metadata=documents[row["doc_id"]]["metadata"]))
        dense = DenseIndex.load(folder / "dense.faiss", manifest["dense_index"])
        sparse = SparseIndex.load(folder / "sparse")
        if len(dense) != len(chunks) or len(sparse) != len(documents):
            raise IndexLoadError(f"Index {folder} is inconsistent: row counts differ. Rebuild it.")
        memory = None
        if manifest.get("memory"):
            memory = ChoiceMemory.load(folder / MEMORY).for_encoder(encoder)
        return cls(config, encoder, chunks, documents, dense, sparse, manifest, memory)


def encoder_identity(encoder: Encoder) -> dict:
    """What a manifest records of the encoder: its id, the fingerprint of the weights that made
    the stored vectors, the fingerprint of the weights that encode queries, and the dimension."""
    return {
        "id": encoder.model_id,
        "fingerprint": encoder.fingerprint,
        "query_fingerprint": query_fingerprint(encoder),
        "dim": encoder.dim,
    }


def encoder_matches(recorded: Mapping, encoder: Encoder) -> bool:
    """Whether ``encoder`` is the one a manifest's ``model`` entry records (both sides)."""
    return (
        encoder.fingerprint == recorded["fingerprint"]
        and query_fingerprint(encoder) == _query_side(recorded)
        and encoder.dim == recorded["dim"]
    )


def _query_side(recorded: Mapping) -> str:
    # manifests written before query-side fine-tuning existed encode queries with the same weights
    return recorded.get("query_fingerprint", recorded["fingerprint"])


def read_manifest(folder: str | Path) -> dict:
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


def corpus_fingerprint(documents: Mapping[str, dict]) -> str:
    """Hash of (doc id, content hash) pairs: equal for equal corpora."""
    digest = hashlib.sha256()
    for doc_id in sorted(documents):
        digest.update(doc_id.encode())
        digest.update(str(documents[doc_id]["metadata"].get("content_hash", "")).encode())
    return digest.hexdigest()[:16]


def _bm25(texts: list[str], config: IndexConfig) -> SparseIndex:
    """One BM25 text per document, in ``doc_ids`` order."""
    return SparseIndex.build(
        texts, config.bm25_k1, config.bm25_b, config.bm25_method, config.stemmer, config.stopwords
    )


def _hits(rows: np.ndarray, scores: np.ndarray) -> dict[int, float]:
    return {int(r): float(s) for r, s in zip(rows, scores, strict=True) if r >= 0}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
