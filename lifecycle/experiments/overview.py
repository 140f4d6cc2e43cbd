"""Experiments as every interface shows them (``docsearch experiments``, the monitoring page,
the Dagster sensor and checks): one call each, the same figures everywhere."""

from __future__ import annotations

from lifecycle.experiments import canary as canaries
from lifecycle.experiments import decisions
from lifecycle.experiments.store import CANARY, Experiment, ExperimentStore
from search.settings import Settings


def _registry(settings: Settings):
    from lifecycle.registry import Registry

    return Registry.from_settings(settings)


def describe(settings: Settings, records: ExperimentStore, experiment: Experiment) -> dict:
    """An experiment's state, counts and evidence so far (no side effects)."""
    if experiment.kind == CANARY:
        verdict = canaries.check(records, None, experiment.id, _limits(settings, experiment))
        e = verdict.experiment
        return {
            "id": e.id,
            "kind": e.kind,
            "state": e.state,
            "reason": e.reason,
            "previous_champion": f"v{e.champion_registered}",
            "new_champion": f"v{e.challenger_registered}",
            "share": e.share,
            "started_at": e.started_at.isoformat(),
            "ended_at": e.ended_at.isoformat() if e.ended_at else None,
            "queries": records.arm_counts(e.id),
            "signals": verdict.as_dict(),
        }
    return decisions.report(records, experiment).as_dict()


def _limits(settings: Settings, experiment: Experiment) -> canaries.CanaryLimits:
    return canaries.CanaryLimits.of(settings)


def overview(settings: Settings) -> list[dict]:
    """Every experiment, newest first, described."""
    records = ExperimentStore(settings.feedback_url)
    try:
        return [describe(settings, records, e) for e in records.all()]
    finally:
        records.close()


def show(settings: Settings, experiment_id: int) -> dict:
    records = ExperimentStore(settings.feedback_url)
    try:
        return describe(settings, records, records.get(experiment_id))
    finally:
        records.close()


def stop(settings: Settings, experiment_id: int, by: str) -> dict:
    """End a running experiment by hand; nothing is promoted or rolled back."""
    records = ExperimentStore(settings.feedback_url)
    try:
        decisions.stop(records, _registry(settings), experiment_id, by)
        return describe(settings, records, records.get(experiment_id))
    finally:
        records.close()


def judge_running(settings: Settings) -> list[dict]:
    """Judge every running experiment on its evidence so far and act on a decision (an
    interleaving won: promote; a canary degraded: roll back). What the Dagster sensor and
    ``docsearch experiments decide`` call."""
    records = ExperimentStore(settings.feedback_url)
    registry = _registry(settings)
    try:
        for experiment in records.running():
            if experiment.kind == CANARY:
                canaries.check(records, registry, experiment.id, _limits(settings, experiment))
            else:
                decisions.decide(records, registry, experiment.id)
        return [describe(settings, records, e) for e in records.all()]
    finally:
        records.close()
