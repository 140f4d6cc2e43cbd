"""``make fit-relevance``: fit the relevance models (``search.retrieval.relevance``) on the TUNE
parts of several labeled collections and store them with the product.

Every candidate the product's retrievers find for a TUNE query (``search.index.candidates``) is a
row of ``FEATURES`` labeled relevant or not by the set's judgements. Queries of one collection
run against another of a different field (the sample's questions against the public collections
and theirs against the sample) add lists where nothing is relevant: what a question the
documents cannot answer looks like. Each collection weighs the same, and within it each query.

- hybrid ranking: a linear score over the lists' relative evidence, fitted on pairs of a
  relevant and a non-relevant candidate of the same query (pairwise logistic regression,
  RankNet-style: Burges et al., ICML 2005);
- calibration (hybrid, BM25 alone, dense alone): a logistic regression giving P(relevant);
- the floor: the lowest probability a result is shown at by default, chosen on the same TUNE
  parts (``choose_floor``).
REPORT parts are never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluation.datasets import index_for_labeled_set
from evaluation.parts import TUNE, labeled_parts
from search.config import Method
from search.index import SearchIndex
from search.index.candidates import gather
from search.retrieval.relevance import (
    FEATURES,
    RANK_SCORE,
    QueryWeight,
    RelevanceModel,
    candidate_features,
    model_key,
    save_models,
)
from search.settings import Settings

RANK_FEATURES = (
    "bm25_z",
    "dense_z",
    "bm25_rank",
    "dense_rank",
    "bm25_of_best",
    "cosine_below_best",
    "in_both",
    "rrf",
)
CALIBRATION = {
    "hybrid": (RANK_SCORE, "cosine", "bm25_share", "query_known", "query_terms"),
    "bm25": ("bm25_share", "bm25_of_best", "bm25_rank", "query_known", "query_terms"),
    "dense": ("cosine", "cosine_below_best", "dense_rank", "query_terms"),
}
TOP = 100  # candidates per query the models learn from (by reciprocal rank)
PAIRS = 50  # pairs drawn per query for the ranking
# The floor keeps at least this share of the relevant results that reach the first page
# (the top 10) on the TUNE part of every collection: a hidden answer costs a reader more than a
# few weak matches shown.
KEEP_RELEVANT = 0.9
UNANSWERABLE = "unanswerable"  # one group, weighing as much as one collection
FOREIGN = 40  # questions of one collection asked of another (the first, by id)


@dataclass
class QueryRows:
    """One query's candidates: features, relevance labels (0/1) and where it came from."""

    collection: str
    rows: np.ndarray
    labels: np.ndarray


@dataclass
class TrainingSet:
    queries: list[QueryRows] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def collect(
    indexes: Mapping[str, SearchIndex],
    parts: Mapping[str, Mapping[str, str]],
    qrels: Mapping[str, Mapping[str, Mapping[str, int]]],
    method: Method = Method.HYBRID,
) -> list[QueryRows]:
    """Rows of every query of ``parts[name]`` against ``indexes[name]``'s candidates."""
    out = []
    for name, queries in parts.items():
        index = indexes[name]
        qids = list(queries)
        texts = [queries[q] for q in qids]
        depth = index.config.candidates
        found = gather(index, texts, method, depth, None, None)
        for qid, text, candidates in zip(qids, texts, found, strict=True):
            weight = QueryWeight(*index.sparse.query_weight(text))
            sparse = candidates.sparse if method != Method.DENSE else {}
            dense = candidates.dense if method != Method.BM25 else {}
            ids, rows = candidate_features(sparse, dense, weight)
            judged = qrels.get(name, {}).get(qid, {})
            labels = np.array([float(judged.get(d, 0) > 0) for d in ids])
            top = np.argsort(-rows[:, FEATURES.index("rrf")], kind="stable")[:TOP]
            group = UNANSWERABLE if "<-" in name else name
            out.append(QueryRows(group, rows[top], labels[top]))
    return out


def _weights(queries: list[QueryRows]) -> list[float]:
    """Each collection the same weight, shared equally by its queries."""
    per_collection: dict[str, int] = {}
    for q in queries:
        per_collection[q.collection] = per_collection.get(q.collection, 0) + 1
    n = len(per_collection)
    return [1.0 / (n * per_collection[q.collection]) for q in queries]


def fit_ranking(queries: list[QueryRows], seed: int = 0) -> np.ndarray:
    """Coefficients of the linear ranking score over ``RANK_FEATURES``."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    columns = [FEATURES.index(f) for f in RANK_FEATURES]
    diffs, weights = [], []
    for q, w in zip(queries, _weights(queries), strict=True):
        good, bad = np.flatnonzero(q.labels > 0), np.flatnonzero(q.labels <= 0)
        if not len(good) or not len(bad):
            continue
        a, b = rng.choice(good, PAIRS), rng.choice(bad, PAIRS)
        d = q.rows[a][:, columns] - q.rows[b][:, columns]
        diffs += [d, -d]
        weights += [np.full(2 * PAIRS, w / (2 * PAIRS))]
    x = np.vstack(diffs)
    y = np.tile(np.r_[np.ones(PAIRS), np.zeros(PAIRS)], len(diffs) // 2)
    w = np.concatenate(weights)
    model = LogisticRegression(fit_intercept=False, max_iter=5000).fit(x, y, w / w.mean())
    return model.coef_[0]


def fit_calibration(
    queries: list[QueryRows], kind: str, rank_coef: np.ndarray | None
) -> tuple[tuple, tuple, tuple, float]:
    """(mean, scale, coef, intercept) of the logistic regression for ``kind``."""
    from sklearn.linear_model import LogisticRegression

    names = CALIBRATION[kind]
    rank_columns = [FEATURES.index(f) for f in RANK_FEATURES]
    xs, ys, ws = [], [], []
    for q, w in zip(queries, _weights(queries), strict=True):
        cols = [
            q.rows[:, rank_columns] @ rank_coef if f == RANK_SCORE else q.rows[:, FEATURES.index(f)]
            for f in names
        ]
        xs.append(np.column_stack(cols))
        ys.append(q.labels)
        ws.append(np.full(len(q.labels), w / max(1, len(q.labels))))
    x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(max_iter=5000).fit((x - mean) / scale, y, w / w.mean())
    return tuple(mean), tuple(scale), tuple(model.coef_[0]), float(model.intercept_[0])


def choose_floor(model: RelevanceModel, queries: list[QueryRows]) -> float:
    """The highest floor (on a grid of 0.01) at which every collection still shows
    ``KEEP_RELEVANT`` of its relevant first-page results: no collection pays for another."""
    grid = np.round(np.arange(0.01, 0.9, 0.01), 2)
    kept: dict[str, np.ndarray] = {}  # collection -> relevant results kept at each floor
    total: dict[str, int] = {}
    for q in queries:
        if not q.labels.any():
            continue
        scores = model.rank_scores(q.rows) if model.ranks else None
        p = model.probabilities(q.rows, scores)
        order = np.argsort(-(scores if scores is not None else p), kind="stable")[:10]
        shown = np.minimum.accumulate(p[order])  # as the results show it: never rising
        relevant = shown[q.labels[order] > 0]
        kept[q.collection] = kept.get(q.collection, 0) + (relevant[None, :] >= grid[:, None]).sum(1)
        total[q.collection] = total.get(q.collection, 0) + len(relevant)
    best = grid[0]
    for i, floor in enumerate(grid):
        if all(kept[c][i] >= KEEP_RELEVANT * total[c] for c in kept if total[c]):
            best = floor
    return float(best)


def fit(
    collections: Mapping[str, Path], foreign_of: str, unrelated: set[str], settings: Settings
) -> dict:
    """Fit and store every model from the TUNE parts of ``collections`` (name -> BEIR folder);
    ``foreign_of``: the collection whose questions are asked of each ``unrelated`` one (of
    another field: none of its documents answers them), and theirs of it."""
    config = settings.index_config()
    indexes = {n: index_for_labeled_set(r, settings, config).index for n, r in collections.items()}
    tune = {n: labeled_parts(r)[TUNE] for n, r in collections.items()}
    encoder = config.model
    parts = {n: t.queries for n, t in tune.items()}
    qrels = {n: t.qrels for n, t in tune.items()}
    for other in collections:
        if other in unrelated and other != foreign_of:  # nothing relevant: unanswerable
            indexes[f"{other}<-{foreign_of}"] = indexes[other]
            parts[f"{other}<-{foreign_of}"] = _first(parts[foreign_of], FOREIGN)
            indexes[f"{foreign_of}<-{other}"] = indexes[foreign_of]
            parts[f"{foreign_of}<-{other}"] = _first(parts[other], FOREIGN)
    fitted_on = tuple(f"{n} {TUNE} ({len(t.queries)} queries)" for n, t in tune.items())
    models, summary = [], {}
    for kind in ("hybrid", "bm25", "dense"):
        method = Method(kind)
        queries = collect(indexes, parts, qrels, method)
        rank_coef = fit_ranking(queries) if kind == "hybrid" else None
        mean, scale, coef, intercept = fit_calibration(queries, kind, rank_coef)
        model = RelevanceModel(
            model_key(kind, encoder),
            CALIBRATION[kind],
            mean,
            scale,
            coef,
            intercept,
            0.0,
            RANK_FEATURES if rank_coef is not None else (),
            tuple(rank_coef) if rank_coef is not None else (),
            fitted_on,
        )
        floor = choose_floor(model, queries)
        models.append(RelevanceModel(**{**model.__dict__, "floor": floor}))
        summary[model.name] = {"floor": floor, "queries": len(queries)}
    note = {
        "how": "python -m evaluation.relevance_fit (make fit-relevance): TUNE parts only",
        "encoder": encoder,
        "fitted_on": list(fitted_on),
        "unanswerable": f"{foreign_of} questions asked of {', '.join(sorted(unrelated))} "
        "and theirs of it",
    }
    save_models(models, note)
    return {"models": summary, **note}


def _first(queries: Mapping[str, str], n: int) -> dict[str, str]:
    return {q: queries[q] for q in sorted(queries)[:n]}


def default_collections(settings: Settings) -> dict[str, Path]:
    """SciFact, the sample and its independent questions, the municipality and the public
    collections in data/collections."""
    from evaluation.collections import COLLECTIONS, beir_collection

    found = {"sample": settings.sample_set}
    for name, root in (
        ("independent", settings.sample_set / "independent"),
        ("municipality", settings.sample_set.parent / "municipality"),
    ):
        if (root / "queries.jsonl").is_file():
            found[name] = root
    if settings.eval_scifact and Path(settings.eval_scifact).is_dir():
        found["scifact"] = Path(settings.eval_scifact)
    for name in COLLECTIONS:
        found[name] = beir_collection(name, settings)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", action="append", type=Path, help="a BEIR folder (repeatable)")
    args = parser.parse_args()
    settings = Settings.from_env()
    collections = (
        {p.resolve().name: p for p in args.dataset}
        if args.dataset
        else default_collections(settings)
    )
    if "sample" not in collections:
        sys.exit(
            "error: the sample set must be among the collections (its questions are asked of the others)"
        )
    # the public collections are about medicine, physics and librarianship: nothing in them
    # answers a question about a company's policies, nor the reverse
    unrelated = {"scifact", "medline", "lisa", "vaswani"} & set(collections)
    print(json.dumps(fit(collections, "sample", unrelated, settings), indent=2))


if __name__ == "__main__":
    main()
