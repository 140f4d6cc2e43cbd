"""Fusion of ranked lists: reciprocal rank fusion and a weighted sum of normalised scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Ranking = Mapping[str, float]  # item id -> score (higher is better)


def rrf(
    rankings: Sequence[Ranking], k: int = 60, weights: Sequence[float] | None = None
) -> dict[str, float]:
    """Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009).

    score(d) = sum_i w_i / (k + rank_i(d)), rank starting at 1; a list that misses d adds nothing.
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        ordered = sorted(ranking.items(), key=lambda item: -item[1])
        for rank, (item, _) in enumerate(ordered, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def min_max(ranking: Ranking) -> dict[str, float]:
    """Scale scores to [0, 1]: (s - min) / (max - min); all equal scores map to 1."""
    if not ranking:
        return {}
    lo, hi = min(ranking.values()), max(ranking.values())
    if hi == lo:
        return {item: 1.0 for item in ranking}
    return {item: (s - lo) / (hi - lo) for item, s in ranking.items()}


def weighted(rankings: Sequence[Ranking], weights: Sequence[float]) -> dict[str, float]:
    """Convex combination of min-max normalised scores (CombSUM with weights; Fox and Shaw 1994).

    score(d) = sum_i w_i * norm_i(d), where norm_i(d) = 0 when list i misses d.
    """
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for item, s in min_max(ranking).items():
            fused[item] = fused.get(item, 0.0) + weight * s
    return fused


def z_scores(ranking: Ranking) -> dict[str, float]:
    """Standardise scores: (s - mean) / standard deviation over the list; all equal map to 0."""
    if not ranking:
        return {}
    values = list(ranking.values())
    mean = sum(values) / len(values)
    spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    if spread == 0:
        return {item: 0.0 for item in ranking}
    return {item: (s - mean) / spread for item, s in ranking.items()}


def z_score(
    rankings: Sequence[Ranking], weights: Sequence[float] | None = None
) -> dict[str, float]:
    """Weighted sum of z-scores (CombSUM over standardised scores; Montague and Aslam 2001).

    score(d) = sum_i w_i * z_i(d), where z_i(d) is the lowest z-score of list i when list i
    misses d (it ranked below everything the list returned). Standardising by each list's own
    mean and spread puts a retriever's confident outliers above its crowd, whatever its scale.
    """
    weights = weights or [1.0 / len(rankings)] * len(rankings)
    normalised = [z_scores(ranking) for ranking in rankings]
    floors = [min(z.values(), default=0.0) for z in normalised]
    items = set().union(*normalised)
    return {
        item: sum(
            w * z.get(item, floor) for w, z, floor in zip(weights, normalised, floors, strict=True)
        )
        for item in items
    }
