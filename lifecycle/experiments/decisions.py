"""Interleaving experiments from start to decision: started when a challenger passes the offline
gate in an environment that wants an online win, judged by the sequential test as its queries
come in, and ended by a decision that moves the registry's aliases (``better``: the challenger
becomes champion) or leaves them (``worse``, ``no difference``, ``no decision``, stopped).
Every judgement is logged to the challenger's MLflow run (``online/*`` metrics beside the
offline ones) and tagged on its registered version (``online.*``)."""

from __future__ import annotations

from dataclasses import dataclass

from mlflow.entities import Metric

from lifecycle.experiments.canary import start_canary
from lifecycle.experiments.interleaving import CHALLENGER_SIDE, winner
from lifecycle.experiments.sequential import (
    BETTER,
    KEEP_COLLECTING,
    SequentialDecision,
    SequentialPolicy,
    sequential_decision,
)
from lifecycle.experiments.store import INTERLEAVING, Experiment, ExperimentStore
from lifecycle.registry import CHAMPION, INDEX_VERSION_TAG, Registry
from search.settings import Settings

STOPPED = "stopped"


def sequential_policy_for(settings: Settings) -> SequentialPolicy:
    """The environment's sequential test (``search.settings.experiments``)."""
    return SequentialPolicy(
        alpha=settings.experiment_alpha,
        beta=settings.experiment_beta,
        min_win=settings.experiment_min_win,
        max_queries=settings.experiment_max_queries,
    )


@dataclass(frozen=True)
class OnlineGate:
    """What an environment asks of a challenger that passed the offline gate: an online win
    (``required``) in an interleaving of ``share`` of its searches, judged by ``policy``."""

    feedback_url: str
    required: bool
    share: float
    policy: SequentialPolicy
    canary_share: float = 0.0  # after a promotion, the new champion's share of a canary

    @classmethod
    def of(cls, settings: Settings) -> OnlineGate:
        return cls(
            settings.feedback_url,
            settings.online_win_required,
            settings.interleave_share,
            sequential_policy_for(settings),
            settings.canary_share,
        )

    def after_promotion(self, registry: Registry, previous: str | None, new: str):
        """The canary of a new champion, where the environment runs canaries (else None)."""
        if not self.canary_share or previous is None:
            return None
        records = ExperimentStore(self.feedback_url)
        try:
            return start_canary(records, registry, previous, new, self.canary_share)
        finally:
            records.close()

    def start(self, registry: Registry, challenger_registered: str) -> Experiment:
        """The interleaving of the champion and a challenger the gate held for it."""
        records = ExperimentStore(self.feedback_url)
        try:
            return start_interleaving(
                records, registry, challenger_registered, self.share, self.policy,
                canary_share=self.canary_share,
            )  # fmt: skip
        finally:
            records.close()


def start_interleaving(
    records: ExperimentStore,
    registry: Registry,
    challenger_registered: str,
    share: float,
    policy: SequentialPolicy = SequentialPolicy(),
    canary_share: float = 0.0,
) -> Experiment:
    """A running interleaving of the registry's champion and version ``challenger_registered``;
    a win starts a canary of ``canary_share`` (none at 0)."""
    champion = registry.alias(CHAMPION)
    if champion is None:
        raise ValueError(f"{registry.model_name} has no champion to compare a challenger with")
    challenger = registry.version(challenger_registered)
    experiment = records.start(
        INTERLEAVING,
        champion.tags.get(INDEX_VERSION_TAG, ""),
        challenger.tags.get(INDEX_VERSION_TAG, ""),
        share,
        champion_registered=str(champion.version),
        challenger_registered=str(challenger.version),
        parameters={
            **policy.__dict__,
            "registry_model": registry.model_name,
            "canary_share": canary_share,
        },
    )
    registry.tag_version(
        str(challenger.version),
        {"online.experiment": str(experiment.id), "online.state": "running"},
    )
    return experiment


@dataclass(frozen=True)
class ExperimentReport:
    """An experiment's counts and the evidence so far."""

    experiment: Experiment
    interleaved: int  # queries answered with the interleaved list
    ties: int  # of those, no click or equal credit: not outcomes
    decision: SequentialDecision
    test: str

    def as_dict(self) -> dict:
        e = self.experiment
        return {
            "id": e.id,
            "kind": e.kind,
            "state": e.state,
            "reason": e.reason,
            "champion": f"v{e.champion_registered}" if e.champion_registered else None,
            "challenger": f"v{e.challenger_registered}" if e.challenger_registered else None,
            "champion_version": e.champion_version,
            "challenger_version": e.challenger_version,
            "share": e.share,
            "started_at": e.started_at.isoformat() if e.started_at else None,
            "ended_at": e.ended_at.isoformat() if e.ended_at else None,
            "stopped_by": e.stopped_by,
            "interleaved_queries": self.interleaved,
            "ties": self.ties,
            **{f"evidence_{k}": v for k, v in self.decision.as_dict().items()},
            "test": self.test,
        }


def policy_of(experiment: Experiment) -> SequentialPolicy:
    fields = SequentialPolicy.__dataclass_fields__
    return SequentialPolicy(**{k: v for k, v in experiment.parameters.items() if k in fields})


def report(records: ExperimentStore, experiment: Experiment) -> ExperimentReport:
    """The evidence so far, without acting on it."""
    outcomes = records.outcomes(experiment.id)
    winners = [winner(o.credits) for o in outcomes]
    decided = [w == CHALLENGER_SIDE for w in winners if w is not None]
    policy = policy_of(experiment)
    return ExperimentReport(
        experiment,
        interleaved=len(outcomes),
        ties=len(outcomes) - len(decided),
        decision=sequential_decision(decided, policy),
        test=policy.describe(),
    )


def decide(records: ExperimentStore, registry: Registry, experiment_id: int) -> ExperimentReport:
    """Judge a running interleaving on its outcomes so far, log the evidence to MLflow, and act
    on a decision: ``better`` makes the challenger champion; any other end leaves the champion
    serving. A decided or stopped experiment is reported as it ended."""
    experiment = records.get(experiment_id)
    current = report(records, experiment)
    if not experiment.running or experiment.kind != INTERLEAVING:
        return current
    _log_evidence(registry, current)
    state = current.decision.state
    if state == KEEP_COLLECTING:
        return current
    reason = _reason(current)
    tags = {"online.state": state, "online.reason": reason}
    if state != BETTER:
        registry.tag_version(experiment.challenger_registered, tags)
        return report(records, records.end(experiment.id, state, reason))
    registry.make_champion(experiment.challenger_registered, tags)
    ended = report(records, records.end(experiment.id, state, reason))
    share = float(experiment.parameters.get("canary_share") or 0.0)
    if share:
        start_canary(
            records, registry, experiment.champion_registered,
            experiment.challenger_registered, share,
        )  # fmt: skip
    return ended


def stop(
    records: ExperimentStore, registry: Registry | None, experiment_id: int, by: str
) -> Experiment:
    """End a running experiment by hand: nothing is promoted or rolled back."""
    experiment = records.get(experiment_id)
    if not experiment.running:
        raise ValueError(f"experiment {experiment_id} already ended ({experiment.state})")
    reason = f"stopped by {by}"
    if registry is not None and experiment.challenger_registered:
        registry.tag_version(
            experiment.challenger_registered, {"online.state": STOPPED, "online.reason": reason}
        )
    return records.end(experiment_id, STOPPED, reason, by=by)


def _reason(current: ExperimentReport) -> str:
    d = current.decision
    rate = f"{d.win_rate:.3f}" if d.win_rate is not None else "n/a"
    return (
        f"{d.state}: the challenger won {d.wins} and lost {d.losses} of {d.decided} decided "
        f"queries (win rate {rate}; {current.ties} ties of {current.interleaved} interleaved)"
    )


def _log_evidence(registry: Registry, current: ExperimentReport) -> None:
    """The online figures on the challenger's run, beside its offline evaluation (step: the
    decided queries so far, so MLflow's chart shows the evidence growing), and its tags."""
    e, d = current.experiment, current.decision
    version = registry.version(e.challenger_registered)
    figures = {
        "online/interleaved_queries": current.interleaved,
        "online/ties": current.ties,
        "online/wins": d.wins,
        "online/losses": d.losses,
        "online/llr_better": d.llr_better,
        "online/llr_worse": d.llr_worse,
    }
    if d.win_rate is not None:
        figures["online/win_rate"] = d.win_rate
    import time

    now = int(time.time() * 1000)
    registry.client.log_batch(
        version.run_id, metrics=[Metric(k, float(v), now, d.decided) for k, v in figures.items()]
    )
    registry.tag_version(
        str(version.version),
        {
            "online.experiment": str(e.id),
            "online.evidence": f"{d.wins} wins, {d.losses} losses, {current.ties} ties",
            "online.test": current.test,
        },
    )
