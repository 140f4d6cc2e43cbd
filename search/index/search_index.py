"""The search index: chunks, a FAISS dense index and a BM25 index, fused into document results.

``SearchIndex`` holds the parts and is what callers use; the work lives beside it, one module
per seam: ``build`` (from documents, or from chunks and vectors handed in), ``query`` (the
query path), ``disk`` (the folder), ``manifest`` (what the folder records).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from search.chunking import Chunk
from search.config import Fusion, IndexConfig, Method
from search.encoding import EmbeddingCache, Encoder
from search.index import query as query_path
from search.index.access import AccessTable
from search.index.disk import read_index, write_index
from search.index.manifest import recorded_config
from search.index.parts import BuildStats, bm25_index, bm25_text, dense_index, embed_chunks
from search.index.query import ResultPage, SearchResult
from search.index.textstore import RowMap
from search.ingest import Document
from search.progress import ProgressFn
from search.retrieval import ChoiceMemory, DenseIndex, Filters, SparseIndex


class SearchIndex:
    """Hybrid retrieval over one collection. Build it, save it, load it, search it."""

    def __init__(
        self,
        config: IndexConfig,
        encoder: Encoder,
        chunks: Sequence[Chunk],
        documents: Mapping[str, dict],
        dense: DenseIndex,
        sparse: SparseIndex,
        manifest: dict | None = None,
        memory: ChoiceMemory | None = None,
        access: AccessTable | None = None,
    ) -> None:
        self.config = config
        self.encoder = encoder
        self.chunks = chunks  # in dense-index row order (a saved index reads them on demand)
        self.documents = documents  # doc_id -> {"title", "metadata"} (likewise)
        self.dense = dense
        self.sparse = sparse
        self.manifest = manifest or {}
        self.memory = memory  # documents users chose for earlier questions (hybrid search only)
        self.access = access  # who may read what; None: everyone reads everything
        self.build_stats: BuildStats | None = None
        # a loaded index's chunks carry their row map; one built in memory makes it
        rows = getattr(chunks, "rows", None) or RowMap.of(documents, (c.doc_id for c in chunks))
        self._rows = rows
        self.doc_ids = rows.doc_ids  # row order of the BM25 index
        # document row of every chunk row: turns a mask over documents into one over chunks
        self.chunk_doc_rows = rows.chunk_docs
        self.selections = query_path.Selections(self)

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
        """Chunk, embed (through the cache) and index ``documents``: ``build.build_index`` over
        the chunks and vectors this makes."""
        # build.py constructs SearchIndex, so it is imported here rather than at module level
        from search.index.build import build_from_documents

        return build_from_documents(documents, config, encoder, cache, progress)

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
            embedded = embed_chunks(self.chunks, self.config, encoder, cache, progress)
            dense, n_encoded = dense_index(embedded.vectors, self.config), embedded.chunks_embedded
        encode_seconds = time.perf_counter() - started
        config = recorded_config(self.config.replace(model=encoder.model_id), encoder)
        memory = self.memory.for_encoder(encoder) if self.memory else None
        index = SearchIndex(
            config,
            encoder,
            self.chunks,
            self.documents,
            dense,
            self.sparse,
            memory=memory,
            access=self.access,
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
        together with the words several users chose it for (document expansion from the query log).
        BM25 is rebuilt from the documents' own text, so a new memory replaces the old one's
        words, never adds to them; chunks and dense vectors are shared as they are."""
        memory = memory.for_encoder(self.encoder) if memory is not None and len(memory) else None
        sparse = self.sparse
        if memory is not None or self.memory is not None:
            expansion = memory.expansion_by_document() if memory is not None else {}
            texts = (
                bm25_text(self.documents[d]["title"], self.document_text(d), expansion.get(d, ""))
                for d in self.doc_ids
            )
            sparse = bm25_index(list(texts), self.config)
        index = SearchIndex(
            self.config,
            self.encoder,
            self.chunks,
            self.documents,
            self.dense,
            sparse,
            memory=memory,
            access=self.access,
        )
        index.build_stats = self.build_stats
        return index

    def with_access(
        self,
        readers: Mapping[str, Iterable[str]],
        policy_hash: str,
        source: Mapping | None = None,
    ) -> SearchIndex:
        """This index enforcing an access policy's outcome: ``readers`` maps each document id to
        the principals that may read it ("everyone", "user:alice", "group:hr"); a document
        missing from it is readable by nobody. Chunks, vectors, BM25 and the memory are shared
        as they are (nothing is re-embedded); ``policy_hash`` is recorded in the manifest, and
        ``source`` (where the policy came from: ``AccessTable.source``) with it."""
        index = SearchIndex(
            self.config,
            self.encoder,
            self.chunks,
            self.documents,
            self.dense,
            self.sparse,
            memory=self.memory,
            access=AccessTable.build(readers, self.doc_ids, policy_hash, source),
        )
        index.build_stats = self.build_stats
        return index

    def is_readable(self, doc_id: str, principals: Iterable[str] | None) -> bool:
        """Whether ``doc_id`` is in this index and readable by one of ``principals`` (None: no
        restriction). Every caller that shows a document outside search (its text, its chunks,
        its file) asks this first."""
        row = self._rows.row_of(doc_id)
        if row is None:
            return False
        if principals is None or self.access is None:
            return True
        return self.access.readable(row, principals)

    def row_of(self, doc_id: str) -> int | None:
        """The document's row in the index (BM25 order), None when it is not indexed."""
        return self._rows.row_of(doc_id)

    # -------------------------------------------------------------- contents
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

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """A document's chunks in order (empty when the document is not indexed)."""
        return [self.chunks[row] for row in self.rows_of(doc_id)]

    def rows_of(self, doc_id: str) -> list[int]:
        """Dense-index rows of a document's chunks, in order (empty when it is not indexed)."""
        row = self._rows.row_of(doc_id)
        return [] if row is None else self._rows.chunk_rows(row)

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
        return query_path.search_many(
            self, queries, k, method, filters, fusion, dense_weight, with_snippets
        )

    def search_page(
        self,
        query: str,
        k: int = 10,
        offset: int = 0,
        method: Method | str | None = None,
        filters: Filters | None = None,
        weaker: bool = False,
        fusion: Fusion | str | None = None,
    ) -> ResultPage:
        """Results ``offset+1 .. offset+k`` above the relevance floor (all with ``weaker``),
        and how many weaker matches were held back."""
        return query_path.search_page(self, query, k, offset, method, filters, weaker, fusion)

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

    # ------------------------------------------------------------- save / load
    def save(self, folder: str | Path) -> Path:
        """Write the index into an empty ``folder`` (see ``IndexStore`` for atomic versions)."""
        folder = Path(folder)
        self.manifest = write_index(self, folder)
        return folder

    @classmethod
    def load(cls, folder: str | Path, encoder: Encoder | None = None) -> SearchIndex:
        """Load a saved index, verifying its manifest and checksums before reading any file."""
        return cls(*read_index(Path(folder), encoder))
