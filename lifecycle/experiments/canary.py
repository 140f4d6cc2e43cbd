"""Canaries: after a promotion the new champion first answers a share of searches while the
previous champion answers the rest (``lifecycle.experiments.live``); their online signals over
the same period are compared, and a degradation beyond the environment's limits rolls the
champion back automatically (registry aliases moved back, the reason tagged on the version
rolled back from, the experiment ended ``rolled back`` with why: the monitoring page and the
Dagster check ``canary_healthy`` show it to admins).

Signals per side, over the canary's own queries: click-through at top 3 (share of queries with
a click at rank 1-3), abandonment (share of queries with results and no click), zero-result
rate, the chat's not-answered rate (answers to those queries that say the documents do not
say), latency p95. A rate counts as degraded when the new champion's is worse by more than
its limit *and* a one-sided two-proportion z-test finds it worse at ``ALPHA`` (so chance
alone rolls back about one canary in twenty at most, per signal at its limit); latency when
the new p95 exceeds the old by more than the allowed ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats
from sqlalchemy import select

from lifecycle.experiments.interleaving import CHALLENGER_SIDE, CHAMPION_SIDE
from lifecycle.experiments.store import CANARY, Experiment, ExperimentStore
from lifecycle.feedback.schema import answers, clicks, queries

ALPHA = 0.05
PASSED, ROLLED_BACK = "passed", "rolled back"
NOT_ANSWERED = "The documents do not say"  # how every declined chat answer begins
RATES = ("ctr_at_3", "abandonment", "zero_result_rate", "not_answered_rate")
WORSE_IF_LOWER = {"ctr_at_3"}  # the other rates are worse when higher


@dataclass(frozen=True)
class CanaryLimits:
    """How much worse the new champion may be (``search.settings.experiments``)."""

    min_queries: int = 200
    ctr_at_3: float = 0.05
    abandonment: float = 0.05
    zero_result_rate: float = 0.02
    not_answered_rate: float = 0.05
    latency_ratio: float = 1.5

    @classmethod
    def of(cls, settings) -> CanaryLimits:
        return cls(
            settings.canary_min_queries,
            settings.canary_max_ctr_drop,
            settings.canary_max_abandonment_rise,
            settings.canary_max_zero_result_rise,
            settings.canary_max_not_answered_rise,
            settings.canary_max_latency_ratio,
        )


@dataclass(frozen=True)
class Signals:
    """One side's online signals: counts behind each rate, and latency p95."""

    queries: int
    counts: dict[str, tuple[int, int]]  # rate name -> (events, out of)
    p95_ms: float | None

    def rate(self, name: str) -> float | None:
        events, total = self.counts[name]
        return events / total if total else None

    def as_dict(self) -> dict:
        return {"queries": self.queries, "p95_ms": self.p95_ms} | {
            name: self.rate(name) for name in RATES
        }


def signals(records: ExperimentStore, experiment: Experiment) -> dict[str, Signals]:
    """Each side's signals over the canary's queries (side ``champion``: the previous
    champion; ``challenger``: the new one)."""
    arms = records.arm_queries(experiment.id)
    frame = records.signals_frame(experiment.id)
    with records.engine.connect() as conn:
        top3 = {
            r.query_id
            for r in conn.execute(
                select(clicks.c.query_id).where(
                    clicks.c.query_id.in_(frame["id"].tolist()), clicks.c.rank <= 3
                )
            )
        }
        clicked = {
            r.query_id
            for r in conn.execute(
                select(clicks.c.query_id).where(clicks.c.query_id.in_(frame["id"].tolist()))
            )
        }
        said = list(
            conn.execute(
                select(answers.c.query_id, answers.c.answer)
                .join(queries, queries.c.id == answers.c.query_id)
                .where(answers.c.query_id.in_(frame["id"].tolist()))
            )
        )
    out = {}
    for side in (CHAMPION_SIDE, CHALLENGER_SIDE):
        ids = set(arms.get(side, ()))
        rows = frame[frame["id"].isin(ids)]
        answered = [a for q, a in said if q in ids]
        with_results = rows[rows["n_results"] > 0]
        out[side] = Signals(
            queries=len(rows),
            counts={
                "ctr_at_3": (int(rows["id"].isin(top3).sum()), len(rows)),
                "abandonment": (int((~with_results["id"].isin(clicked)).sum()), len(with_results)),
                "zero_result_rate": (int((rows["n_results"] == 0).sum()), len(rows)),
                "not_answered_rate": (
                    sum(a.startswith(NOT_ANSWERED) for a in answered),
                    len(answered),
                ),
            },
            p95_ms=float(rows["latency_ms"].quantile(0.95)) if len(rows) else None,
        )
    return out


def degradations(
    before: Signals, after: Signals, limits: CanaryLimits
) -> dict[str, dict[str, float]]:
    """The signals on which ``after`` (the new champion) is worse than ``before`` beyond its
    limit and significantly so; each with both values and the test's p-value."""
    found = {}
    for name in RATES:
        (e0, n0), (e1, n1) = before.counts[name], after.counts[name]
        if not n0 or not n1:
            continue  # not measured on one side (no chat answers, say)
        sign = -1 if name in WORSE_IF_LOWER else 1
        worse_by = sign * (e1 / n1 - e0 / n0)
        p = _one_sided_p(e0, n0, e1, n1, sign)
        if worse_by > getattr(limits, name) and p < ALPHA:
            found[name] = {"before": e0 / n0, "after": e1 / n1, "p": p}
    if before.p95_ms and after.p95_ms and after.p95_ms > limits.latency_ratio * before.p95_ms:
        found["latency_p95"] = {"before": before.p95_ms, "after": after.p95_ms}
    return found


def _one_sided_p(e0: int, n0: int, e1: int, n1: int, sign: int) -> float:
    """P-value of "the second rate is worse" (higher for sign +1, lower for -1): the pooled
    two-proportion z-test."""
    pooled = (e0 + e1) / (n0 + n1)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
    if spread == 0:
        return 1.0
    z = sign * (e1 / n1 - e0 / n0) / spread
    return float(stats.norm.sf(z))


@dataclass(frozen=True)
class CanaryVerdict:
    experiment: Experiment
    signals: dict[str, Signals]
    degraded: dict[str, dict[str, float]]
    state: str  # "keep collecting", PASSED or ROLLED_BACK

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "degraded": self.degraded,
            **{f"{side}": s.as_dict() for side, s in self.signals.items()},
        }


def check(records: ExperimentStore, registry, experiment_id: int, limits: CanaryLimits):
    """Compare a running canary's sides once both have ``limits.min_queries``: roll back on a
    degradation (the previous champion serves again), else end it ``passed``. Returns the
    verdict; an ended canary is reported as it ended."""
    experiment = records.get(experiment_id)
    if experiment.kind != CANARY:
        raise ValueError(f"experiment {experiment_id} is not a canary")
    measured = signals(records, experiment)
    before, after = measured[CHAMPION_SIDE], measured[CHALLENGER_SIDE]
    degraded = degradations(before, after, limits)
    if not experiment.running:
        return CanaryVerdict(experiment, measured, degraded, experiment.state)
    if min(before.queries, after.queries) < limits.min_queries:
        return CanaryVerdict(experiment, measured, degraded, "keep collecting")
    if degraded:
        reason = "rolled back: " + "; ".join(
            f"{name} {v['before']:.3f} -> {v['after']:.3f}" for name, v in degraded.items()
        )
        tags = {"canary.state": ROLLED_BACK, "canary.reason": reason}
        if registry is not None:
            registry.rollback(tags=tags)
        ended = records.end(experiment.id, ROLLED_BACK, reason, by="canary")
        return CanaryVerdict(ended, measured, degraded, ROLLED_BACK)
    reason = f"passed: no signal degraded beyond its limit on {after.queries} queries"
    if registry is not None and experiment.challenger_registered:
        registry.tag_version(experiment.challenger_registered, {"canary.state": PASSED})
    ended = records.end(experiment.id, PASSED, reason, by="canary")
    return CanaryVerdict(ended, measured, degraded, PASSED)


def start_canary(
    records: ExperimentStore, registry, previous: str, new: str, share: float
) -> Experiment:
    """A canary of the registry's new champion (version number ``new``) against the previous
    one (``previous``)."""
    from lifecycle.registry import INDEX_VERSION_TAG

    old_mv, new_mv = registry.version(previous), registry.version(new)
    experiment = records.start(
        CANARY,
        old_mv.tags.get(INDEX_VERSION_TAG, ""),
        new_mv.tags.get(INDEX_VERSION_TAG, ""),
        share,
        champion_registered=str(old_mv.version),
        challenger_registered=str(new_mv.version),
        parameters={"registry_model": registry.model_name},
    )
    registry.tag_version(str(new_mv.version), {"canary.state": "running"})
    return experiment
