"""Champion and challenger on live traffic: interleaved comparison, a sequential decision with
known error rates, canaries that roll back, and the records of each experiment.

``interleaving`` (team-draft lists and their credit), ``sequential`` (Wald's SPRT on the win
rate), ``schema`` and ``store`` (the records), ``live`` (answering searches while one runs),
``decisions`` (starting, judging, stopping, and the registry and MLflow records of each
decision), ``canary`` (after a promotion: signals compared, automatic rollback).
"""

from lifecycle.experiments.decisions import (
    ExperimentReport,
    OnlineGate,
    decide,
    report,
    sequential_policy_for,
    start_interleaving,
    stop,
)
from lifecycle.experiments.interleaving import (
    CHALLENGER_SIDE,
    CHAMPION_SIDE,
    Picked,
    coin_for,
    credit,
    team_draft,
    winner,
)
from lifecycle.experiments.live import LiveExperiment, Routed, search_and_log_live
from lifecycle.experiments.sequential import (
    BETTER,
    KEEP_COLLECTING,
    NO_DECISION,
    NO_DIFFERENCE,
    WORSE,
    SequentialDecision,
    SequentialPolicy,
    sequential_decision,
)
from lifecycle.experiments.store import (
    CANARY,
    INTERLEAVED,
    INTERLEAVING,
    RUNNING,
    Experiment,
    ExperimentStore,
    Outcome,
)

__all__ = [
    "BETTER",
    "CANARY",
    "CHALLENGER_SIDE",
    "CHAMPION_SIDE",
    "INTERLEAVED",
    "INTERLEAVING",
    "KEEP_COLLECTING",
    "NO_DECISION",
    "NO_DIFFERENCE",
    "RUNNING",
    "WORSE",
    "Experiment",
    "ExperimentReport",
    "ExperimentStore",
    "LiveExperiment",
    "OnlineGate",
    "Outcome",
    "Picked",
    "Routed",
    "SequentialDecision",
    "SequentialPolicy",
    "coin_for",
    "credit",
    "decide",
    "report",
    "search_and_log_live",
    "sequential_decision",
    "sequential_policy_for",
    "start_interleaving",
    "stop",
    "team_draft",
    "winner",
]
