"""What each retriever finds for a batch of queries, before fusion: BM25 over documents, the
dense index over chunks (max-pooled into documents, each with its best chunk), and the feedback
memory's recall."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from search.config import Method

if TYPE_CHECKING:
    from search.index.search_index import SearchIndex


@dataclass(frozen=True)
class Candidates:
    """What each retriever found for one query, before fusion."""

    sparse: dict[str, float]  # doc_id -> BM25 score
    dense: dict[str, float]  # doc_id -> best chunk's cosine (max-pooled)
    best_chunk: dict[str, int]  # doc_id -> row of that best chunk
    remembered: dict[str, float]  # doc_id -> feedback memory strength (0-1)


def gather(
    index: SearchIndex,
    texts: list[str],
    method: Method,
    depth: int,
    allowed_docs: np.ndarray | None,
    allowed_chunks: np.ndarray | None,
) -> list[Candidates]:
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
            Candidates(
                sparse=_ordered({index.doc_ids[row]: score for row, score in sparse.items()}),
                dense=_ordered(dense_docs),
                best_chunk=best,
                remembered={d: s for d, s in memory.items() if d in index.documents},
            )
        )
    return out


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


def _ordered(scores: dict[str, float]) -> dict[str, float]:
    """Best first, ties by document id: rank fusion then never depends on the order in which
    a retriever happened to return equal scores."""
    return dict(sorted(scores.items(), key=lambda item: (-item[1], item[0])))


def _hits(rows: np.ndarray, scores: np.ndarray) -> dict[int, float]:
    return {int(r): float(s) for r, s in zip(rows, scores, strict=True) if r >= 0}
