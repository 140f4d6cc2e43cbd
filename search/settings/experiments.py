"""Settings of promotion on evidence: the offline gate's test, online interleaving experiments,
canaries and their rollback limits, and the drift and freshness checks. Each environment's
profile sets its own (dev: no live experiment; prod: a share of traffic interleaved, an online
win required, a canary after each promotion)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ExperimentSettings(BaseModel):
    gate_min_queries: int = Field(
        50,
        ge=1,
        description="labeled queries (held-back feedback plus trusted sets) a retrained challenger is judged on before its gain can count; fewer: keep collecting",
    )
    gate_alpha: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="significance level of the offline gate's one-sided paired randomization test on per-query nDCG@10",
    )
    interleave_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of searches answered with a team-draft interleaving of the champion and a running experiment's challenger (0: none)",
    )
    online_win_required: bool = Field(
        False,
        description="a challenger that passed the offline gate is promoted only after an interleaving experiment finds it better (it starts one instead)",
    )
    experiment_alpha: float = Field(
        0.05,
        gt=0,
        lt=0.5,
        description="the interleaving test's false-promotion rate: chance of calling an equal challenger better",
    )
    experiment_beta: float = Field(
        0.1,
        gt=0,
        lt=0.5,
        description="the interleaving test's miss rate at the smallest win worth detecting",
    )
    experiment_min_win: float = Field(
        0.52,
        gt=0.5,
        lt=1,
        description="smallest share of decided queries won by the challenger worth detecting (the SPRT's alternative; 0.52: the closed loop's retrained challenger wins 55.2% of decided interleavings on SciFact's held-back train claims, 52.4% at the 5th percentile over resampled claims)",
    )
    experiment_max_queries: int = Field(
        20000,
        ge=10,
        description="decided (untied) queries after which an experiment stops without a winner",
    )
    canary_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of searches the new champion answers after a promotion while the previous one answers the rest (0: no canary)",
    )
    canary_min_queries: int = Field(
        200,
        ge=1,
        description="queries each side of a canary needs before its signals are compared",
    )
    canary_max_ctr_drop: float = Field(
        0.05,
        ge=0,
        description="largest drop of click-through at top 3 (new minus previous champion) a canary tolerates",
    )
    canary_max_abandonment_rise: float = Field(
        0.05, ge=0, description="largest rise of abandonment (no click) a canary tolerates"
    )
    canary_max_zero_result_rise: float = Field(
        0.02, ge=0, description="largest rise of the zero-result rate a canary tolerates"
    )
    canary_max_not_answered_rise: float = Field(
        0.05,
        ge=0,
        description="largest rise of the chat's not-answered rate a canary tolerates",
    )
    canary_max_latency_ratio: float = Field(
        1.5, gt=0, description="largest p95 latency of the new champion over the previous one's"
    )
    drift_max_far_share: float = Field(
        0.3,
        ge=0,
        le=1,
        description="largest share of recent queries far (cosine below `drift_min_similarity`) from every evaluation query; above: retrain alert",
    )
    drift_min_similarity: float = Field(
        0.5,
        ge=-1,
        le=1,
        description="cosine to the nearest evaluation query below which a query counts as far",
    )
    drift_max_unknown_words: float = Field(
        0.2,
        ge=0,
        le=1,
        description="largest share of recent query words the serving index does not know; above: re-index alert",
    )
    freshness_max_stale_documents: int = Field(
        0,
        ge=0,
        description="documents changed in the documents folder but not in the serving index tolerated; above: re-index",
    )
    freshness_max_evaluation_age_hours: float = Field(
        48.0,
        gt=0,
        description="hours since the last successful evaluation tolerated; above: evaluate",
    )
    drift_window_days: float = Field(
        7.0, gt=0, description="days of recent queries the drift checks read"
    )
