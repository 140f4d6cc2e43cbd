"""The query path: the retrievers' candidates (``candidates``), fusion or the calibrated
probability of relevance (``search.retrieval.relevance``), the feedback memory's recall, the
relevance floor, then snippets for the results shown."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from search.config import Fusion, IndexConfig, Method
from search.index.candidates import Candidates, gather
from search.retrieval import Filters, Snippet, make_snippet, min_max, rrf, weighted
from search.retrieval.fusion import z_score
from search.retrieval.relevance import (
    QueryWeight,
    RelevanceModel,
    candidate_features,
    monotone,
    relevance_model,
    with_evidence,
)

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
    # the calibrated probability that the result is relevant (search.retrieval.relevance):
    # the same scale for every query and collection, never higher than the result above it;
    # None when no relevance model is stored
    relevance: float | None = None
    # (doc id, title) of the documents the reader may open that say they replace this one
    # (search.chat.superseded.with_replacements, as the search service shows it)
    replaced_by: tuple[tuple[str, str], ...] = ()

    @property
    def shown_score(self) -> float:
        """The one score every interface shows: the relevance, or the ranking score where no
        relevance model is stored."""
        return self.score if self.relevance is None else self.relevance


@dataclass(frozen=True)
class ResultPage:
    """A window of one query's results, with what the relevance floor held back."""

    results: list[SearchResult]
    found: int  # results that can be paged through (at or above the floor, or every one)
    held_back: int  # results below the floor that were not shown (0 when weaker ones are)
    floor: float | None  # the relevance below which results are held back; None: no model
    best: float | None  # the relevance of the query's best result, shown or not

    @property
    def good_match(self) -> bool:
        """Whether the query's best result reaches the floor: one answer for every page."""
        return self.best is None or self.floor is None or self.best >= self.floor


@dataclass(frozen=True)
class _Ranked:
    """One query's candidates in order: (doc_id, score, relevance) best first."""

    text: str
    order: list[tuple[str, float, float | None]]
    found: Candidates


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
    """Top-k documents for each query (batched encoding and BM25), floor or not."""
    ranked = _rank(index, queries, k, method, filters, fusion, dense_weight)
    return {
        qid: _results(index, r, r.order[:k], 1, with_snippets) if r else []
        for qid, r in ranked.items()
    }


def search_page(
    index: SearchIndex,
    query: str,
    k: int = 10,
    offset: int = 0,
    method: Method | str | None = None,
    filters: Filters | None = None,
    weaker: bool = False,
    fusion: Fusion | str | None = None,
) -> ResultPage:
    """Results ``offset+1 .. offset+k`` of ``query`` above the relevance floor of ``method``'s
    model (every result with ``weaker``), with how many were held back below it."""
    ranked = _rank(index, {"q": query}, offset + k, method, filters, fusion)["q"]
    model = model_for(index, method)
    floor = model.floor if model is not None else None
    order = ranked.order if ranked else []
    above = sum(1 for _, _, p in order if p is None or floor is None or p >= floor)
    shown = order if weaker else order[:above]
    window = shown[offset : offset + k]
    return ResultPage(
        results=_results(index, ranked, window, offset + 1, True) if window else [],
        found=len(shown),
        held_back=0 if weaker else len(order) - above,
        floor=floor,
        best=order[0][2] if order else None,
    )


def _rank(
    index: SearchIndex,
    queries: Mapping[str, str],
    k: int,
    method: Method | str | None = None,
    filters: Filters | None = None,
    fusion: Fusion | str | None = None,
    dense_weight: float | None = None,
) -> dict[str, _Ranked | None]:
    """Every candidate of each query in order (None where the filters allow nothing)."""
    method = Method(method or Method.HYBRID)
    fusion = Fusion(fusion or index.config.fusion)
    weight = index.config.dense_weight if dense_weight is None else dense_weight
    qids = list(queries)
    texts = [queries[q] or "" for q in qids]
    allowed_docs, allowed_chunks = index.selections.masks(filters)
    if allowed_docs is not None and not allowed_docs.any():
        return {q: None for q in qids}
    depth = max(index.config.candidates, 3 * k)
    found = gather(index, texts, method, depth, allowed_docs, allowed_chunks)
    model = model_for(index, method)
    out: dict[str, _Ranked | None] = {}
    for qid, text, candidates in zip(qids, texts, found, strict=True):
        likely, ranking = _evidence(index, model, method, text, candidates)
        if fusion == Fusion.RELEVANCE and method == Method.HYBRID and ranking:
            fused = _with_memory(min_max(ranking), candidates, index.config)
        else:
            fused = _fuse(index.config, method, fusion, weight, candidates)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        relevance = _relevance(ranked, likely, candidates, index.config, model)
        order = [(d, s, p) for (d, s), p in zip(ranked, relevance, strict=True)]
        out[qid] = _Ranked(text, order, candidates)
    return out


def _results(
    index: SearchIndex,
    ranked: _Ranked,
    window: list[tuple[str, float, float | None]],
    first_rank: int,
    with_snippets: bool,
) -> list[SearchResult]:
    terms = index.sparse.terms(ranked.text) if with_snippets else set()
    return [
        _result(index, doc_id, score, rank, ranked.found, terms, with_snippets, relevance)
        for rank, (doc_id, score, relevance) in enumerate(window, start=first_rank)
    ]


def model_for(index: SearchIndex, method: Method | str | None) -> RelevanceModel | None:
    """The relevance model that scores ``method``'s results with this index's encoder.

    An encoder whose query side alone was fine-tuned (the learning loop's challenger: its
    folder records the document model it was tuned against) gets its document model's: the
    passage vectors, BM25 and every relative feature are the same, only the query vectors
    moved, so the learned fusion and the floor still apply (the gate judges the ranking that
    results). Without it a retrained index would lose both."""
    kind = Method(method or Method.HYBRID).value
    model = relevance_model(kind, index.config.model)
    documents = getattr(index.encoder, "documents", None)  # a QueryTunedEncoder's document side
    if model is None and documents is not None:
        model = relevance_model(kind, documents.model_id)
    return model


def _evidence(
    index: SearchIndex,
    model: RelevanceModel | None,
    method: Method,
    text: str,
    found: Candidates,
) -> tuple[dict[str, float], dict[str, float]]:
    """(P(relevant) of every candidate by the evidence ``method`` looked at, the model's
    hybrid ranking score of each when it has one); ({}, {}) without a model."""
    if model is None:
        return {}, {}
    weight = QueryWeight(*index.sparse.query_weight(text))
    sparse = found.sparse if method != Method.DENSE else {}
    dense = found.dense if method != Method.BM25 else {}
    ids, rows = candidate_features(sparse, dense, weight)
    scores = model.rank_scores(rows) if model.ranks else None
    likely = dict(zip(ids, model.probabilities(rows, scores).tolist(), strict=True))
    return likely, ({} if scores is None else dict(zip(ids, scores.tolist(), strict=True)))


def _with_memory(fused: dict[str, float], found: Candidates, config: IndexConfig) -> dict:
    """A 0-1 fused score plus ``memory_weight`` times the feedback memory's recall."""
    extra = {d: config.memory_weight * s for d, s in found.remembered.items()}
    return {d: fused.get(d, 0.0) + extra.get(d, 0.0) for d in fused.keys() | extra.keys()}


def _relevance(
    ranked: list[tuple[str, float]],
    likely: dict[str, float],
    found: Candidates,
    config: IndexConfig,
    model: RelevanceModel | None,
) -> list[float | None]:
    """The relevance shown with each ranked result: its probability, raised by the feedback
    memory's recall as independent evidence, made never to rise with rank."""
    if model is None:
        return [None] * len(ranked)
    remembered = found.remembered
    return monotone(
        [
            with_evidence(likely.get(d, 0.0), config.memory_weight * remembered.get(d, 0.0))
            for d, _ in ranked
        ]
    )


def _fuse(
    config: IndexConfig, method: Method, fusion: Fusion, weight: float, found: Candidates
) -> dict[str, float]:
    """One score per document: one retriever's own, or both fused, plus the memory's recall."""
    if method == Method.BM25:
        fused = found.sparse
    elif method == Method.DENSE:
        fused = found.dense
    elif fusion == Fusion.RRF:
        fused = rrf([found.sparse, found.dense], k=config.rrf_k)
    elif fusion in (Fusion.ZSCORE, Fusion.RELEVANCE):  # RELEVANCE without a model to rank by
        # on a 0-1 scale again, where the memory's strength adds
        fused = min_max(z_score([found.sparse, found.dense], [1.0 - weight, weight]))
    else:
        fused = weighted([found.sparse, found.dense], [1.0 - weight, weight])
    if not found.remembered:
        return fused
    # the memory adds ``memory_weight`` times its strength on the score fusions' 0-1 scale;
    # under RRF it is a third ranked list with that weight
    if fusion != Fusion.RRF:
        return _with_memory(fused, found, config)
    extra = rrf([found.remembered], k=config.rrf_k, weights=[config.memory_weight])
    return {d: fused.get(d, 0.0) + extra.get(d, 0.0) for d in fused.keys() | extra.keys()}


def _result(
    index: SearchIndex,
    doc_id: str,
    score: float,
    rank: int,
    found: Candidates,
    terms: set[str],
    with_snippets: bool,
    relevance: float | None = None,
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
        relevance=relevance,
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
            allowed &= columns.mask(filters, lambda row: index.documents.at(row)["metadata"])
        elif filters.restricts_metadata():
            allowed &= np.fromiter(
                (filters.matches(index.documents[d]["metadata"]) for d in index.doc_ids),
                dtype=bool,
                count=len(index.doc_ids),
            )
        return allowed


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
