"""The probability that a result is relevant, from what the retrievers say about it: one score
in 0-1 that means the same for every query and collection, and the ranking of hybrid search.

Each candidate document of a query is described by features that need no per-collection scale
(``FEATURES``): its BM25 score as a share of the most BM25 can give this query (the sum of the
query terms' IDF: ``SparseIndex.query_weight``), relative to the query's best BM25 hit and
standardised within the BM25 list, its semantic similarity (the dense retriever's cosine), its
distance below the query's best and its z-score there, its rank in each list, whether both lists
found it, its reciprocal-rank fusion score, how much of the query the collection knows and how
long the query is. A ``RelevanceModel`` holds a linear ranking score over the relative evidence
(hybrid search's default fusion) and a logistic regression giving P(relevant), both fitted once
on the TUNE parts of several labeled collections (``evaluation.relevance_fit``) and shipped with
the product in ``relevance_models.json``; nothing is fitted per query or per collection, so the
best hit of a query nothing matches stays improbable (a per-query min-max would give it 1.0).
The cosine features depend on the encoder: a model is stored per encoder (BM25 alone has one
for any encoder); an encoder without one gets no probability and no floor.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from search.retrieval.fusion import z_scores

MODELS_FILE = Path(__file__).with_name("relevance_models.json")
FEATURES = (
    "bm25_share",  # BM25 score / the most BM25 can give this query
    "bm25_of_best",  # BM25 score / the query's best BM25 score
    "bm25_rank",  # log2(1 + rank in the BM25 list)
    "bm25_z",  # standardised within the BM25 list (search.retrieval.fusion.z_scores)
    "cosine",  # the best chunk's cosine with the query
    "cosine_below_best",  # the query's best cosine minus this one
    "dense_rank",  # log2(1 + rank in the dense list)
    "dense_z",  # standardised within the dense list
    "in_both",  # 1 when both lists found it
    "rrf",  # 60 x the reciprocal-rank-fusion score (Cormack et al. 2009), 2 at most
    "query_known",  # share of the query's terms the collection has
    "query_terms",  # log(1 + terms in the query after stopwords)
)
RANK_SCORE = "rank_score"  # a calibration input: the hybrid ranking's own score


@dataclass(frozen=True)
class QueryWeight:
    """What the sparse index says about a query as a whole (``SparseIndex.query_weight``)."""

    idf_mass: float  # the most BM25 can give one document for this query
    known: float  # share of the query's terms the collection has (0-1)
    terms: int  # terms after stopwords


def candidate_features(
    sparse: Mapping[str, float], dense: Mapping[str, float], weight: QueryWeight
) -> tuple[list[str], np.ndarray]:
    """(document ids, one row of ``FEATURES`` per document) for the union of the candidates.

    ``sparse``: BM25 scores, ``dense``: cosines (either may be empty), each best first. A
    document a list missed gets that list's floor: no BM25 share, the lowest cosine and
    z-score the list returned, and the rank after its last."""
    ids = list(dict.fromkeys([*sparse, *dense]))
    rows = np.zeros((len(ids), len(FEATURES)), dtype=np.float64)
    if not ids:
        return ids, rows
    best_bm25 = max(sparse.values(), default=0.0)
    best_cos = max(dense.values(), default=0.0)
    floor_cos = min(dense.values(), default=0.0)
    z_sparse, z_dense = z_scores(sparse), z_scores(dense)
    floor_zs, floor_zd = min(z_sparse.values(), default=0.0), min(z_dense.values(), default=0.0)
    sparse_rank = {d: r for r, d in enumerate(sparse, start=1)}
    dense_rank = {d: r for r, d in enumerate(dense, start=1)}
    mass = weight.idf_mass if weight.idf_mass > 0 else 1.0
    terms = math.log1p(weight.terms)
    for i, doc_id in enumerate(ids):
        bm25 = sparse.get(doc_id, 0.0)
        cosine = dense.get(doc_id, floor_cos)
        in_sparse, in_dense = sparse_rank.get(doc_id), dense_rank.get(doc_id)
        rows[i] = (
            bm25 / mass,
            bm25 / best_bm25 if best_bm25 > 0 else 0.0,
            math.log2(1 + (in_sparse or len(sparse) + 1)),
            z_sparse.get(doc_id, floor_zs),
            cosine,
            best_cos - cosine,
            math.log2(1 + (in_dense or len(dense) + 1)),
            z_dense.get(doc_id, floor_zd),
            float(in_sparse is not None and in_dense is not None),
            60.0 * sum(1.0 / (60 + r) for r in (in_sparse, in_dense) if r is not None),
            weight.known,
            terms,
        )
    return ids, rows


@dataclass(frozen=True)
class RelevanceModel:
    """How one kind of search ranks and calibrates its candidates.

    ``rank_features``/``rank_coef``: a linear ranking score over ``FEATURES`` (hybrid only,
    fitted on pairs of a relevant and a non-relevant candidate of the same query: a fusion of
    the two lists by their relative evidence); empty for a single retriever, whose own order
    stands. ``features``...``intercept``: a logistic regression, over standardised features
    (``RANK_SCORE`` among them when there is a ranking score), giving P(relevant)."""

    name: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    floor: float  # results below this probability are held back by default
    rank_features: tuple[str, ...] = ()
    rank_coef: tuple[float, ...] = ()
    fitted_on: tuple[str, ...] = ()  # the labeled parts it was fitted on

    @property
    def ranks(self) -> bool:
        return bool(self.rank_features)

    def rank_scores(self, rows: np.ndarray) -> np.ndarray:
        """The ranking score of each row of ``candidate_features`` (higher first)."""
        columns = [FEATURES.index(f) for f in self.rank_features]
        return rows[:, columns] @ np.asarray(self.rank_coef, dtype=np.float64)

    def probabilities(self, rows: np.ndarray, rank_scores: np.ndarray | None = None) -> np.ndarray:
        """P(relevant) of each row of ``candidate_features``."""
        if len(rows) == 0:
            return np.zeros(0)
        if self.ranks and rank_scores is None:
            rank_scores = self.rank_scores(rows)
        x = np.column_stack(
            [rank_scores if f == RANK_SCORE else rows[:, FEATURES.index(f)] for f in self.features]
        )
        x = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(x @ np.asarray(self.coef) + self.intercept)))

    def to_dict(self) -> dict:
        out = {k: v for k, v in dataclasses.asdict(self).items() if k != "name"}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls, name: str, data: Mapping) -> RelevanceModel:
        fields = {f.name for f in dataclasses.fields(cls)} - {"name"}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in fields}
        return cls(name, **values)


SPARSE_ONLY = "bm25"  # the model over BM25 features alone: any encoder


def model_key(kind: str, encoder: str = "") -> str:
    """The name a model is stored under: ``bm25``, or ``hybrid:<encoder>`` / ``dense:<encoder>``."""
    return kind if kind == SPARSE_ONLY else f"{kind}:{encoder}"


@cache
def _stored(path: Path = MODELS_FILE) -> dict[str, RelevanceModel]:
    data = json.loads(path.read_text()) if path.is_file() else {}
    return {name: RelevanceModel.from_dict(name, d) for name, d in data.get("models", {}).items()}


def relevance_model(kind: str, encoder: str, path: Path = MODELS_FILE) -> RelevanceModel | None:
    """The stored model for ``kind`` ("hybrid", "dense" or "bm25") with ``encoder`` (a model id
    such as "all-MiniLM-L6-v2"); None when there is none (an encoder it was not fitted for,
    whose cosines it cannot read: then results carry their retriever's or the z-score
    fusion's ranking, no probability and no floor, until ``make fit-relevance`` fits one)."""
    return _stored(path).get(model_key(kind, encoder))


def monotone(values: Sequence[float]) -> list[float]:
    """Each value no higher than any before it (a running minimum): the relevance shown down a
    ranked list that is not ordered by relevance itself never rises with rank."""
    out, lowest = [], math.inf
    for value in values:
        lowest = min(lowest, value)
        out.append(lowest)
    return out


def with_evidence(probability: float, strength: float) -> float:
    """``probability`` with another, independent piece of evidence of ``strength`` (0-1) that
    the document is relevant: 1 - (1 - p)(1 - s) (a noisy-OR; e.g. the feedback memory)."""
    strength = min(1.0, max(0.0, strength))
    return 1.0 - (1.0 - probability) * (1.0 - strength)


def save_models(models: Sequence[RelevanceModel], note: Mapping, path: Path = MODELS_FILE) -> None:
    """Write ``models`` (replacing those of the same name) with ``note`` (how they were made)."""
    data = json.loads(path.read_text()) if path.is_file() else {}
    kept = data.get("models", {})
    kept.update({m.name: m.to_dict() for m in models})
    path.write_text(json.dumps({"note": dict(note), "models": kept}, indent=1) + "\n")
    _stored.cache_clear()
