"""The promotion gate: may a new index version replace the champion that serves now?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from evaluation import METRICS

PRIMARY_METRIC = "sample/ndcg_at_10"  # the sample set's nDCG@10 decides the floor


@dataclass(frozen=True)
class GatePolicy:
    """Thresholds of the gate; the defaults are what the product ships with."""

    primary: str = PRIMARY_METRIC
    floor: float = 0.5  # minimum of the primary metric
    # the largest drop of any quality metric against the champion; ``GatePolicy.tolerance`` is
    # the one default every interface refers to
    tolerance: float = 0.01
    require_improvement: bool = False  # a challenger must beat the champion on the primary metric
    sets: tuple[
        str, ...
    ] = ()  # evaluation sets that take part (empty: all); others are reported only


@dataclass(frozen=True)
class GateDecision:
    """The verdict and the numbers behind it (written to Dagster metadata and MLflow tags)."""

    promote: bool
    reason: str
    primary: str
    value: float | None
    floor: float
    tolerance: float
    regressions: dict[str, float] = field(default_factory=dict)  # metric -> delta (< -tolerance)

    def as_tags(self) -> dict[str, str]:
        tags = {
            "gate.decision": "promote" if self.promote else "reject",
            "gate.reason": self.reason,
            "gate.primary": self.primary,
            "gate.value": "" if self.value is None else f"{self.value:.4f}",
            "gate.floor": f"{self.floor:.4f}",
            "gate.tolerance": f"{self.tolerance:.4f}",
        }
        for metric, delta in self.regressions.items():
            tags[f"gate.regression.{metric}"] = f"{delta:+.4f}"
        return tags


@dataclass(frozen=True)
class GateChecks:
    """The gate's two checks on a build's metrics, before any decision: does the primary
    metric reach the floor, and which quality metrics drop beyond the tolerance against the
    champion. The Dagster evaluation asset reports them; ``decide`` decides from them."""

    primary: str
    value: float | None
    floor: float
    tolerance: float
    regressions: dict[str, float]  # metric -> delta (< -tolerance); empty without a champion

    @property
    def meets_floor(self) -> bool:
        return self.value is not None and self.value >= self.floor

    @property
    def no_regression(self) -> bool:
        return not self.regressions


def is_quality_metric(name: str) -> bool:
    """``<set>/ndcg_at_10`` and friends (``evaluation.METRICS``); build and latency metrics
    are not gated."""
    return name.rsplit("/", 1)[-1] in METRICS


def quality_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if is_quality_metric(k)}


def check(
    metrics: Mapping[str, float],
    champion: Mapping[str, float] | None,
    policy: GatePolicy = GatePolicy(),
) -> GateChecks:
    """The floor and the regressions of ``metrics``: every quality metric that both versions
    report, of the sets taking part, down by more than the tolerance against ``champion``."""
    regressions = {
        name: metrics[name] - champion[name]
        for name in sorted(set(metrics) & set(champion or {}))
        if is_quality_metric(name)
        and (not policy.sets or name.rsplit("/", 1)[0] in policy.sets)
        and metrics[name] - champion[name] < -policy.tolerance
    }
    return GateChecks(
        policy.primary, metrics.get(policy.primary), policy.floor, policy.tolerance, regressions
    )


def decide(
    metrics: Mapping[str, float],
    champion: Mapping[str, float] | None,
    policy: GatePolicy = GatePolicy(),
) -> GateDecision:
    """Promote when the primary metric reaches the floor and no quality metric that both
    versions report drops by more than the tolerance. With no champion the floor alone decides.
    """
    checks = check(metrics, champion, policy)
    value = checks.value

    def verdict(promote: bool, reason: str, regressions: dict | None = None) -> GateDecision:
        return GateDecision(
            promote,
            reason,
            policy.primary,
            value,
            policy.floor,
            policy.tolerance,
            regressions or {},
        )

    if value is None:
        return verdict(False, f"{policy.primary} was not measured")
    if not checks.meets_floor:
        return verdict(False, f"{policy.primary} {value:.4f} is below the floor {policy.floor:.4f}")
    if not champion:
        return verdict(
            True, f"first good build: {policy.primary} {value:.4f} >= {policy.floor:.4f}"
        )
    if policy.require_improvement:
        before = champion.get(policy.primary)
        if before is None:
            return verdict(False, f"the champion has no {policy.primary} to compare with")
        if value <= before:
            return verdict(
                False,
                f"{policy.primary} {value:.4f} is not better than the champion's {before:.4f}",
            )
    regressions = checks.regressions
    if regressions:
        worst = min(regressions, key=regressions.get)
        return verdict(
            False,
            f"{worst} regressed by {regressions[worst]:+.4f} against the champion "
            f"(tolerance {policy.tolerance:.4f})",
            regressions,
        )
    if policy.require_improvement:
        return verdict(
            True,
            f"{policy.primary} {champion[policy.primary]:.4f} -> {value:.4f}, "
            "no regression beyond tolerance",
        )
    return verdict(True, f"{policy.primary} {value:.4f} >= floor, no regression beyond tolerance")
