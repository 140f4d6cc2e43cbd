"""One turn of the closed loop for the CLI and ``make bench-loop``: the steps of
``lifecycle.loop.steps`` composed, timed, and summarised as ``docsearch retrain`` prints them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from evaluation.metrics import Evaluation
from lifecycle.gate import EvidencePolicy, GatePolicy
from lifecycle.loop.evaluation_sets import FEEDBACK_SET, EvalSet, evaluate_on
from lifecycle.loop.fine_tuning import FineTuneConfig
from lifecycle.loop.steps import (
    ChallengerBuild,
    ChampionIndex,
    Judgement,
    PreparedData,
    TrainedEncoder,
    build_challenger_version,
    judge_challenger,
    prepare_training_data,
    train_encoder,
)
from search.index import SearchIndex


@dataclass(frozen=True)
class LoopTimings:
    pairs_seconds: float = 0.0
    train_seconds: float = 0.0  # fine-tuning, and logging the encoder when MLflow records
    challenger_seconds: float = 0.0  # building and writing the challenger
    evaluation_seconds: float = 0.0  # evaluations, the gate, and MLflow's record of both


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.started = now - self.started, now
        return elapsed


@dataclass
class RetrainOutcome:
    """Everything one turn of the loop decided and measured."""

    promoted: bool
    reason: str
    decision: str  # promote, reject, keep collecting
    evidence: dict  # the paired test's figures (empty when the means alone decided)
    test: str  # the evidence policy in words
    champion_version: str
    challenger_version: str
    encoder_path: str
    dense_weight: float
    weight_grid: dict[float, float]
    before: dict[str, dict[str, float]]  # set name -> metrics of the champion as served
    after: dict[str, dict[str, float]]  # set name -> metrics of the challenger as it would serve
    dense_before: dict[str, dict[str, float]]
    dense_after: dict[str, dict[str, float]]
    pairs: dict
    fine_tune: dict
    timings: LoopTimings
    mlflow: dict = field(default_factory=dict)


def retrain(
    champion: SearchIndex,
    champion_version: str,
    impressions,
    store,
    settings,
    report_sets: Iterable[EvalSet] = (),
    gate_sets: Iterable[EvalSet] = (),
    fine_tune_config: FineTuneConfig | None = None,
    tolerance: float = GatePolicy.tolerance,
    log: Callable[[str], None] = print,
    registry=None,
    evidence: EvidencePolicy | None = EvidencePolicy(),
    online=None,
) -> RetrainOutcome:
    """One turn of the loop: pairs -> fine-tune -> challenger -> evaluation -> gate.

    ``gate_sets`` (labeled sets the product trusts, e.g. the sample queries) join the held-back
    feedback in the gate; ``report_sets`` (e.g. a benchmark's test split) are only measured and
    never influence a choice; either kind is left out when the index lacks documents it judges.
    ``evidence`` is how much the gain must be proved (``lifecycle.gate.EvidencePolicy``);
    ``online`` (``lifecycle.experiments.OnlineGate``) whether an online win must follow.
    The challenger is written to ``store`` as a new version, made current only when promoted.
    With a ``registry`` (lifecycle.registry.Registry) the encoder and the challenger are logged
    and registered in MLflow and the aliases moved. Both sides are also measured with dense
    retrieval alone, for the report.
    """
    base = ChampionIndex(champion, champion_version, store)
    config = fine_tune_config or FineTuneConfig()
    clock = Stopwatch()
    prepared = prepare_training_data(impressions, base, settings.home, log=log)
    pairs_seconds = clock.lap()
    trained = train_encoder(base, prepared.data, settings.models_dir, config, registry, log)
    train_seconds = clock.lap()
    challenger, build = build_challenger_version(
        base, trained.path, prepared.data, settings.cache_path, log=log
    )
    challenger_seconds = clock.lap()
    judged = judge_challenger(
        base,
        challenger,
        build,
        prepared.data,
        gate_sets=gate_sets,
        report_sets=report_sets,
        tolerance=tolerance,
        evidence=evidence,
        registry=registry,
        encoder=trained,
        online=online,
        log=log,
    )
    dense_before = evaluate_on(champion, judged.measured, method="dense")
    dense_after = evaluate_on(challenger, judged.measured, method="dense")
    timings = LoopTimings(pairs_seconds, train_seconds, challenger_seconds, clock.lap())
    return _outcome(base, prepared, trained, build, judged, (dense_before, dense_after), timings)


def _outcome(
    champion: ChampionIndex,
    prepared: PreparedData,
    trained: TrainedEncoder,
    build: ChallengerBuild,
    judged: Judgement,
    dense: tuple[Mapping[str, Evaluation], Mapping[str, Evaluation]],
    timings: LoopTimings,
) -> RetrainOutcome:
    """The turn as ``RetrainOutcome``; ``dense`` holds both sides' dense-only evaluations."""
    mlflow = {}
    if judged.mlflow:
        mlflow = {
            "encoder_run": trained.mlflow_run,
            "encoder_version": trained.mlflow_version,
            **judged.mlflow,
            "registry_reason": judged.reason,
        }
    data = prepared.data
    return RetrainOutcome(
        promoted=judged.promoted,
        reason=judged.reason,
        decision=judged.decision.outcome,
        evidence=judged.decision.evidence.as_dict() if judged.decision.evidence else {},
        test=judged.decision.test,
        champion_version=champion.version,
        challenger_version=build.version,
        encoder_path=str(trained.path),
        dense_weight=build.dense_weight,
        weight_grid=build.weight_grid,
        before={k: v.mean for k, v in judged.before.items()},
        after={k: v.mean for k, v in judged.after.items()},
        dense_before={k: v.mean for k, v in dense[0].items()},
        dense_after={k: v.mean for k, v in dense[1].items()},
        pairs={**data.stats, "fingerprint": data.fingerprint, "path": str(prepared.path)},
        fine_tune=trained.summary,
        timings=timings,
        mlflow=mlflow,
    )


def summary(outcome: RetrainOutcome, report: str | None) -> dict:
    """What ``docsearch retrain --json`` prints: the report set's figures before and after."""
    pick = report if report in outcome.before else FEEDBACK_SET
    return {
        "before": outcome.before.get(pick, {}),
        "after": outcome.after.get(pick, {}),
        "dense_before": outcome.dense_before.get(pick, {}),
        "dense_after": outcome.dense_after.get(pick, {}),
        "measured_on": pick,
        "promoted": outcome.promoted,
        "decision": outcome.decision,
        "reason": outcome.reason,
        "evidence": {**outcome.evidence, "test": outcome.test} if outcome.test else {},
        "validation_before": outcome.before.get(FEEDBACK_SET, {}),
        "validation_after": outcome.after.get(FEEDBACK_SET, {}),
        "all_before": outcome.before,
        "all_after": outcome.after,
        "champion_version": outcome.champion_version,
        "challenger_version": outcome.challenger_version,
        "dense_weight": outcome.dense_weight,
        "dense_weight_grid": outcome.weight_grid,
        "encoder_path": outcome.encoder_path,
        "pairs": outcome.pairs,
        "fine_tune": outcome.fine_tune,
        "training_seconds": round(outcome.timings.train_seconds, 1),
        "timings": {k: round(v, 1) for k, v in outcome.timings.__dict__.items()},
        "mlflow": outcome.mlflow,
    }
