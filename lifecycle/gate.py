"""The promotion gate: may a new index version replace the champion that serves now?

Three verdicts: ``promote``, ``reject`` (below the floor, a dense index whose recall@10 against
exact search was measured below its own floor, a regression beyond the tolerance, or
significantly worse), and ``keep collecting``: a challenger that must show a gain
(``GatePolicy.evidence``) and whose gain is not yet significant on enough labeled queries is
neither promoted nor thrown away; more feedback decides (the next turn of the loop).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the evaluation package pulls in scipy: seconds for a command that only reads
    from evaluation import Evaluation
    from evaluation.significance import PairedGain

PRIMARY_METRIC = "sample/ndcg_at_10"  # the sample set's nDCG@10 decides the floor
# the build's own figure (the manifest's ``build.dense.recall_at_10``, logged with the run): the
# approximate dense index against exact search on a sample of its chunks; exact search is 1.0
DENSE_RECALL_METRIC = "dense_recall_at_10"
PROMOTE, REJECT, KEEP_COLLECTING = "promote", "reject", "keep collecting"


@dataclass(frozen=True)
class EvidencePolicy:
    """How much a challenger's gain must be proved before it replaces the champion: at least
    ``min_queries`` labeled queries judged by both versions (held-back feedback plus the
    trusted labeled sets, pooled), and a one-sided paired randomization test of the per-query
    ``metric`` differences significant at ``alpha``. The defaults are what the product ships
    with (``search.settings.experiments`` sets them per environment)."""

    min_queries: int = 50
    alpha: float = 0.05
    metric: str = "ndcg_at_10"

    def describe(self) -> str:
        from evaluation.significance import TEST_NAME

        return (
            f"{TEST_NAME} of {self.metric}, alpha {self.alpha:g}, "
            f"at least {self.min_queries} labeled queries"
        )


@dataclass(frozen=True)
class GainEvidence:
    """The paired evidence of a gain, pooled over the gated sets, and which sets gave it."""

    gain: PairedGain
    sets: dict[str, int]  # set name -> paired queries it gave

    def as_dict(self) -> dict:
        return {**self.gain.__dict__, "sets": dict(self.sets)}


def gain_evidence(
    before: Mapping[str, Evaluation],
    after: Mapping[str, Evaluation],
    sets: Iterable[str] = (),
    metric: str = "ndcg_at_10",
) -> GainEvidence:
    """Per-query ``metric`` of both versions on every set both were evaluated on (of ``sets``
    when given), pooled: each labeled query is one paired observation."""
    from evaluation.significance import paired_gain

    names = [n for n in sorted(set(before) & set(after)) if not sets or n in set(sets)]
    xs, ys, counts = [], [], {}
    for name in names:
        queries = sorted(set(before[name].per_query) & set(after[name].per_query))
        xs += [before[name].per_query[q][metric] for q in queries]
        ys += [after[name].per_query[q][metric] for q in queries]
        counts[name] = len(queries)
    return GainEvidence(paired_gain(xs, ys), counts)


@dataclass(frozen=True)
class GatePolicy:
    """Thresholds of the gate; the defaults are what the product ships with."""

    primary: str = PRIMARY_METRIC
    floor: float = 0.5  # minimum of the primary metric
    # minimum of DENSE_RECALL_METRIC; a version that did not measure it is not held to it
    min_dense_recall: float = 0.95
    # the largest drop of any quality metric against the champion; ``GatePolicy.tolerance`` is
    # the one default every interface refers to
    tolerance: float = 0.01
    require_improvement: bool = False  # a challenger must beat the champion on the primary metric
    evidence: EvidencePolicy | None = None  # ... and prove the gain (None: the means decide)
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
    verdict: str = ""  # PROMOTE, REJECT or KEEP_COLLECTING (empty: from ``promote``)
    evidence: GainEvidence | None = None  # the paired test, when the policy asks for one
    test: str = ""  # the evidence policy in words, when there is one
    dense_recall: float | None = None  # DENSE_RECALL_METRIC, when the version measured it
    min_dense_recall: float = GatePolicy.min_dense_recall

    @property
    def outcome(self) -> str:
        return self.verdict or (PROMOTE if self.promote else REJECT)

    def as_tags(self) -> dict[str, str]:
        tags = {
            "gate.decision": self.outcome.replace(" ", "_"),
            "gate.reason": self.reason,
            "gate.primary": self.primary,
            "gate.value": "" if self.value is None else f"{self.value:.4f}",
            "gate.floor": f"{self.floor:.4f}",
            "gate.tolerance": f"{self.tolerance:.4f}",
        }
        if self.dense_recall is not None:
            tags["gate.dense_recall"] = f"{self.dense_recall:.4f}"
            tags["gate.min_dense_recall"] = f"{self.min_dense_recall:.4f}"
        for metric, delta in self.regressions.items():
            tags[f"gate.regression.{metric}"] = f"{delta:+.4f}"
        if self.evidence is not None:
            gain = self.evidence.gain
            tags |= {
                "gate.evidence.test": self.test,
                "gate.evidence.queries": str(gain.queries),
                "gate.evidence.changed": str(gain.changed),
                "gate.evidence.mean_gain": f"{gain.mean_gain:+.4f}",
                "gate.evidence.p_better": f"{gain.p_better:.4g}",
                "gate.evidence.p_worse": f"{gain.p_worse:.4g}",
            }
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
    dense_recall: float | None = None  # DENSE_RECALL_METRIC, when the version measured it
    min_dense_recall: float = GatePolicy.min_dense_recall

    @property
    def meets_floor(self) -> bool:
        return self.value is not None and self.value >= self.floor

    @property
    def meets_dense_recall(self) -> bool:
        """Measured recall at or above its floor; a version that did not measure it passes."""
        return self.dense_recall is None or self.dense_recall >= self.min_dense_recall

    @property
    def no_regression(self) -> bool:
        return not self.regressions


def is_quality_metric(name: str) -> bool:
    """``<set>/ndcg_at_10`` and friends (``evaluation.METRICS``); build and latency metrics
    are not gated."""
    from evaluation import METRICS  # here: the package pulls in scipy, seconds for a command

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
        policy.primary,
        metrics.get(policy.primary),
        policy.floor,
        policy.tolerance,
        regressions,
        _measured(metrics.get(DENSE_RECALL_METRIC)),
        policy.min_dense_recall,
    )


def _measured(value: float | None) -> float | None:
    """A figure, or None when it was not measured (missing, or NaN as MLflow may keep it)."""
    return None if value is None or value != value else float(value)


def decide(
    metrics: Mapping[str, float],
    champion: Mapping[str, float] | None,
    policy: GatePolicy = GatePolicy(),
    evidence: GainEvidence | None = None,
) -> GateDecision:
    """Promote when the primary metric reaches the floor and no quality metric that both
    versions report drops by more than the tolerance. With no champion the floor alone decides.
    A policy with ``evidence`` also needs the paired test on ``evidence`` (``gain_evidence``)
    to prove the gain: too few queries, or a gain not significant at alpha, is
    ``KEEP_COLLECTING``; a challenger significantly worse is rejected.
    """
    checks = check(metrics, champion, policy)
    value = checks.value
    test = policy.evidence.describe() if policy.evidence else ""

    def verdict(promote: bool, reason: str, regressions: dict | None = None, outcome=""):
        return GateDecision(
            promote,
            reason,
            policy.primary,
            value,
            policy.floor,
            policy.tolerance,
            regressions or {},
            outcome or (PROMOTE if promote else REJECT),
            evidence if policy.evidence else None,
            test,
            checks.dense_recall,
            policy.min_dense_recall,
        )

    if value is None:
        return verdict(False, f"{policy.primary} was not measured")
    if not checks.meets_floor:
        return verdict(False, f"{policy.primary} {value:.4f} is below the floor {policy.floor:.4f}")
    if not checks.meets_dense_recall:
        return verdict(
            False,
            f"{DENSE_RECALL_METRIC} {checks.dense_recall:.4f} is below the floor "
            f"{policy.min_dense_recall:.4f}: the approximate dense index misses exact "
            "neighbours; rebuild with more probes (IndexConfig.dense_probes)",
        )
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
    if policy.evidence is not None:
        return _weigh_evidence(policy.evidence, evidence, verdict)
    if policy.require_improvement:
        return verdict(
            True,
            f"{policy.primary} {champion[policy.primary]:.4f} -> {value:.4f}, "
            "no regression beyond tolerance",
        )
    return verdict(True, f"{policy.primary} {value:.4f} >= floor, no regression beyond tolerance")


def _weigh_evidence(wanted: EvidencePolicy, evidence: GainEvidence | None, verdict):
    """The last step of ``decide`` for a policy that wants a proved gain."""
    if evidence is None:
        return verdict(False, "no per-query evaluations to test the gain on", None, KEEP_COLLECTING)
    gain = evidence.gain
    said = (
        f"{wanted.metric} {gain.mean_gain:+.4f} on {gain.queries} labeled queries "
        f"({gain.changed} changed; one-sided p {gain.p_better:.3g}"
    )
    if gain.queries < wanted.min_queries:
        return verdict(
            False,
            f"keep collecting: {gain.queries} labeled queries judged by both versions, "
            f"{wanted.min_queries} needed",
            None,
            KEEP_COLLECTING,
        )
    if gain.p_worse < wanted.alpha:
        return verdict(False, f"significantly worse: {said}, worse p {gain.p_worse:.3g})")
    if gain.p_better >= wanted.alpha:
        return verdict(
            False,
            f"keep collecting: the gain is not significant: {said} >= alpha {wanted.alpha:g})",
            None,
            KEEP_COLLECTING,
        )
    return verdict(True, f"significant gain: {said} < alpha {wanted.alpha:g})")
