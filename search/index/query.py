"""The query path: BM25 and dense candidates, fusion, feedback-memory recall, then snippets."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from search.config import Fusion, IndexConfig, Method
from search.retrieval import Filters, Snippet, make_snippet, min_max, rrf, weighted
from search.retrieval.fusion import z_score

if TYPE_CHECKING:
    from search.index.search_index import SearchIndex


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
class _Candidates:
    """What each retriever found for one query, before fusion."""

    sparse: dict[str, float]  # doc_id -> BM25 score
    dense: dict[str, float]  # doc_id -> best chunk's cosine (max-pooled)
    best_chunk: dict[str, int]  # doc_id -> row of that best chunk
    remembered: dict[str, float]  # doc_id -> feedback memory strength (0-1)


def search_many(
    index: SearchIndex,
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
    fusion = Fusion(fusion or index.config.fusion)
    weight = index.config.dense_weight if dense_weight is None else dense_weight
    qids = list(queries)
    texts = [queries[q] or "" for q in qids]
    allowed_docs, allowed_chunks = index.selections.masks(filters)
    if allowed_docs is not None and not allowed_docs.any():
        return {q: [] for q in qids}
    depth = max(index.config.candidates, 3 * k)
    found = _candidates(index, texts, method, depth, allowed_docs, allowed_chunks)
    out = {}
    for qid, text, candidates in zip(qids, texts, found, strict=True):
        fused = _fuse(index.config, method, fusion, weight, candidates)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        terms = index.sparse.terms(text) if with_snippets else set()
        out[qid] = [
            _result(index, doc_id, score, rank, candidates, terms, with_snippets)
            for rank, (doc_id, score) in enumerate(ranked, start=1)
        ]
    return out


def _candidates(
    index: SearchIndex,
    texts: list[str],
    method: Method,
    depth: int,
    allowed_docs: np.ndarray | None,
    allowed_chunks: np.ndarray | None,
) -> list[_Candidates]:
    """Each retriever's hits for every query, in one batch per retriever."""
    sparse_hits: list[dict[int, float]] = [{} for _ in texts]
    dense_hits: list[dict[int, float]] = [{} for _ in texts]
    recalled: list[dict[str, float]] = [{} for _ in texts]
    if method in (Method.BM25, Method.HYBRID):
        scores, rows = index.sparse.search(texts, depth, allowed_docs)
        sparse_hits = [_hits(r, s) for r, s in zip(rows, scores, strict=True)]
    if method in (Method.DENSE, Method.HYBRID):
        vectors = index.encoder.encode_queries(texts)
        scores, rows = index.dense.search(vectors, depth, allowed_chunks)
        dense_hits = [_hits(r, s) for r, s in zip(rows, scores, strict=True)]
        if method == Method.HYBRID and index.memory and index.config.memory_weight > 0:
            allowed = None if allowed_docs is None else _AllowedIds(index, allowed_docs)
            recalled = index.memory.recall(
                vectors,
                index.config.memory_threshold,
                index.config.memory_neighbours,
                allowed=allowed,
            )
    out = []
    for sparse, dense, memory in zip(sparse_hits, dense_hits, recalled, strict=True):
        dense_docs, best = _by_document(index, dense)
        out.append(
            _Candidates(
                sparse=_ordered({index.doc_ids[row]: score for row, score in sparse.items()}),
                dense=_ordered(dense_docs),
                best_chunk=best,
                remembered={d: s for d, s in memory.items() if d in index.documents},
            )
        )
    return out


def _fuse(
    config: IndexConfig, method: Method, fusion: Fusion, weight: float, found: _Candidates
) -> dict[str, float]:
    """One score per document: one retriever's own, or both fused, plus the memory's recall."""
    if method == Method.BM25:
        fused = found.sparse
    elif method == Method.DENSE:
        fused = found.dense
    elif fusion == Fusion.RRF:
        fused = rrf([found.sparse, found.dense], k=config.rrf_k)
    elif fusion == Fusion.ZSCORE:  # on a 0-1 scale again, where the memory's strength adds
        fused = min_max(z_score([found.sparse, found.dense], [1.0 - weight, weight]))
    else:
        fused = weighted([found.sparse, found.dense], [1.0 - weight, weight])
    if not found.remembered:
        return fused
    # the memory adds ``memory_weight`` times its strength on the score fusions' 0-1 scale;
    # under RRF it is a third ranked list with that weight
    if fusion == Fusion.RRF:
        extra = rrf([found.remembered], k=config.rrf_k, weights=[config.memory_weight])
    else:
        extra = {d: config.memory_weight * s for d, s in found.remembered.items()}
    return {d: fused.get(d, 0.0) + extra.get(d, 0.0) for d in fused.keys() | extra.keys()}


def _result(
    index: SearchIndex,
    doc_id: str,
    score: float,
    rank: int,
    found: _Candidates,
    terms: set[str],
    with_snippets: bool,
) -> SearchResult:
    row = found.best_chunk.get(doc_id)
    if row is None:
        row = _best_chunk_by_terms(index, doc_id, terms)
    chunk = index.chunks[row]
    doc = index.documents[doc_id]
    return SearchResult(
        doc_id=doc_id,
        title=doc["title"],
        score=float(score),
        rank=rank,
        bm25_score=found.sparse.get(doc_id),
        dense_score=found.dense.get(doc_id),
        chunk_id=chunk.id,
        snippet=_snippet(index, chunk.text, terms) if with_snippets else Snippet("", ()),
        metadata=doc["metadata"],
        memory_score=found.remembered.get(doc_id),
    )


class Selections:
    """The rows a ``Filters`` value allows, as boolean masks over documents and over chunks.

    Access comes from the index's per-principal bitmaps; the chunk mask is the document mask
    gathered through each chunk's document row. The last few selections are kept, so a user's
    repeated searches reuse their masks instead of deriving them again."""

    KEEP = 16

    def __init__(self, index: SearchIndex) -> None:
        self._index = index
        self._kept: OrderedDict[Filters, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def masks(self, filters: Filters | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(document mask, chunk mask) that ``filters`` allows; (None, None) = everything."""
        if filters is None or filters.is_empty():
            return None, None
        with self._lock:
            if filters in self._kept:
                self._kept.move_to_end(filters)
                return self._kept[filters]
        docs = self.documents(filters)
        found = docs, docs[self._index.chunk_doc_rows]
        with self._lock:
            self._kept[filters] = found
            while len(self._kept) > self.KEEP:
                self._kept.popitem(last=False)
        return found

    def documents(self, filters: Filters) -> np.ndarray:
        """Boolean mask over document rows: readable by the principals and matching metadata
        (read from metadata columns when the index has them, else document by document)."""
        index = self._index
        allowed = np.ones(len(index.doc_ids), dtype=bool)
        if filters.principals is not None and index.access is not None:
            allowed &= index.access.mask(filters.principals)
        columns = getattr(index.documents, "columns", None)  # a saved index's metadata columns
        if filters.restricts_metadata() and columns is not None:
            allowed &= columns.mask(filters, index.documents.at)
        elif filters.restricts_metadata():
            allowed &= np.fromiter(
                (filters.matches(index.documents[d]["metadata"]) for d in index.doc_ids),
                dtype=bool,
                count=len(index.doc_ids),
            )
        return allowed


class _AllowedIds(Collection):
    """Document ids a mask over document rows allows, without listing them (for the memory)."""

    def __init__(self, index: SearchIndex, mask: np.ndarray) -> None:
        self._index = index
        self._mask = mask

    def __contains__(self, doc_id: object) -> bool:
        row = self._index.row_of(doc_id) if isinstance(doc_id, str) else None
        return row is not None and bool(self._mask[row])

    def __iter__(self):
        return (self._index.doc_ids[r] for r in np.flatnonzero(self._mask))

    def __len__(self) -> int:
        return int(self._mask.sum())


def _by_document(
    index: SearchIndex, hits: dict[int, float]
) -> tuple[dict[str, float], dict[str, int]]:
    """Max-pool chunk scores into document scores; remember each document's best chunk."""
    scores: dict[str, float] = {}
    best: dict[str, int] = {}
    doc_rows = index.chunk_doc_rows
    for row, score in hits.items():
        doc_id = index.doc_ids[int(doc_rows[row])]
        if doc_id not in scores or score > scores[doc_id]:
            scores[doc_id] = score
            best[doc_id] = row
    return scores, best


def _best_chunk_by_terms(index: SearchIndex, doc_id: str, terms: set[str]) -> int:
    """The document's chunk containing most query terms (first chunk on a tie)."""
    rows = index.rows_of(doc_id)
    if len(rows) == 1 or not terms:
        return rows[0]
    counts = [len(terms & set(index.sparse.tokenize_one(index.chunks[r].text))) for r in rows]
    return rows[int(np.argmax(counts))]


def _snippet(index: SearchIndex, text: str, terms: set[str]) -> Snippet:
    stemmer = index.sparse._stemmer
    normalise = stemmer.stemWord if stemmer else (lambda w: w)
    return make_snippet(text, terms, normalise)


def _ordered(scores: dict[str, float]) -> dict[str, float]:
    """Best first, ties by document id: rank fusion then never depends on the order in which
    a retriever happened to return equal scores."""
    return dict(sorted(scores.items(), key=lambda item: (-item[1], item[0])))


def _hits(rows: np.ndarray, scores: np.ndarray) -> dict[int, float]:
    return {int(r): float(s) for r, s in zip(rows, scores, strict=True) if r >= 0}
