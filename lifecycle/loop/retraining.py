"""The closed loop: fine-tuned encoder -> challenger index -> re-fitted fusion -> evaluation -> gate."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.metrics import Evaluation, evaluate
from lifecycle.feedback import query_key
from lifecycle.gate import GatePolicy, decide
from lifecycle.loop.training import VALIDATION_FRACTION, TrainingData, is_validation
from search.config import Fusion
from search.encoding import EmbeddingCache, load_encoder
from search.index import SearchIndex
from search.retrieval import ChoiceMemory

FEEDBACK_SET = "feedback"  # name of the held-back validation feedback as an evaluation set
WEIGHT_GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class EvalSet:
    """Queries with judgements, under a name used in metric keys (``<name>/ndcg_at_10``).

    ``judged_only``: score condensed lists (unjudged documents removed), for judgements that
    cover only what one system showed.
    """

    name: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    judged_only: bool = False

    def evaluate(self, run) -> Evaluation:
        return evaluate(run, self.qrels, judged_only=self.judged_only)


def feedback_set(data: TrainingData) -> EvalSet:
    """The held-back feedback, scored on condensed lists: only the results users were shown
    are judged, a click or thumbs-up gaining its inverse-propensity weight (see
    ``lifecycle.loop.training.build_training_data``). Plain scoring would count every document the
    champion never showed as a miss: a bias toward the champion that made the gate refuse a
    challenger better on SciFact's test claims by +0.017 nDCG@10."""
    return EvalSet(FEEDBACK_SET, data.validation_queries, data.validation_qrels, judged_only=True)


def held_out_set(labeled, fraction: float = VALIDATION_FRACTION) -> EvalSet:
    """A labeled split's queries that feedback on them would hold back from training (the same
    split by query as ``build_training_data``): trusted judgements for the gate that no
    training pair ever came from. Named ``<dataset>-<split>-heldout``."""
    queries = {q: t for q, t in labeled.queries.items() if is_validation(query_key(t)[0], fraction)}
    qrels = {q: labeled.qrels[q] for q in queries if q in labeled.qrels}
    return EvalSet(f"{labeled.name}-{labeled.split}-heldout", queries, qrels)


def fit_dense_weight(
    index: SearchIndex, validation: EvalSet, grid: Iterable[float] = WEIGHT_GRID
) -> tuple[float, dict[float, float]]:
    """The weighted-fusion dense weight with the best nDCG@10 on the validation feedback.

    Ties go to the weight nearest 0.5. With no validation queries the index's weight stays.
    """
    if not validation.queries:
        return index.config.dense_weight, {}
    scores: dict[float, float] = {}
    for weight in grid:
        run = index.run(
            validation.queries, k=100, method="hybrid", fusion="weighted", dense_weight=weight
        )
        scores[weight] = validation.evaluate(run).mean["ndcg_at_10"]
    best = max(scores, key=lambda w: (round(scores[w], 6), -abs(w - 0.5)))
    return best, scores


def build_challenger(
    champion: SearchIndex,
    model_path: Path,
    data: TrainingData,
    cache: EmbeddingCache | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[SearchIndex, dict[float, float]]:
    """Champion's chunks and BM25 with the fine-tuned encoder (the champion's own passage
    vectors when only the query side was fine-tuned), a feedback memory of the training
    questions' choices, and the dense weight re-fitted on the held-back feedback (whose
    questions the memory never holds)."""
    encoder = load_encoder(str(model_path))
    challenger = champion.with_encoder(encoder, cache, progress=progress)
    memory = ChoiceMemory.build(
        data.choices(),
        encoder,
        source={"training_data": data.fingerprint},
        approximate_above=champion.config.approximate_above,
    )
    challenger = challenger.with_memory(memory)
    weight, grid = fit_dense_weight(challenger, feedback_set(data))
    challenger.config = challenger.config.replace(fusion=Fusion.WEIGHTED, dense_weight=weight)
    return challenger, grid


def evaluate_on(
    index: SearchIndex, sets: Iterable[EvalSet], method: str = "hybrid"
) -> dict[str, Evaluation]:
    """The index as it serves (its own fusion settings) on each set."""
    return {
        s.name: s.evaluate(index.run(s.queries, k=100, method=method)) for s in sets if s.queries
    }


def flat_metrics(evaluations: Mapping[str, Evaluation]) -> dict[str, float]:
    return {f"{name}/{m}": v for name, ev in evaluations.items() for m, v in ev.mean.items()}


def challenger_policy(gate_sets: Iterable[str], tolerance: float = 0.01) -> GatePolicy:
    """The gate for a retrained challenger: better on the held-back feedback's nDCG@10, and no
    quality metric of a gated set (the feedback and the trusted labeled sets) down by more than
    ``tolerance``. Report-only sets (a benchmark's test split) never take part."""
    return GatePolicy(
        primary=f"{FEEDBACK_SET}/ndcg_at_10",
        floor=0.0,
        tolerance=tolerance,
        require_improvement=True,
        sets=tuple(gate_sets),
    )


@dataclass(frozen=True)
class LoopTimings:
    pairs_seconds: float = 0.0
    train_seconds: float = 0.0
    challenger_seconds: float = 0.0
    evaluation_seconds: float = 0.0


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
    fine_tune_config=None,
    tolerance: float = 0.01,
    log: Callable[[str], None] = print,
    registry=None,
) -> RetrainOutcome:
    """One turn of the loop: pairs -> fine-tune -> challenger -> evaluation -> gate.

    ``gate_sets`` (labeled sets the product trusts, e.g. the sample queries) join the held-back
    feedback in the gate; ``report_sets`` (e.g. a benchmark's test split) are only measured and
    never influence a choice. The challenger is written to ``store`` as a new version, made
    current only when promoted. With a ``registry`` (lifecycle.registry.Registry) the encoder and
    the challenger are logged and registered in MLflow and the aliases moved.
    """
    from lifecycle.loop.training import (
        FineTuneConfig,
        build_training_data,
        fine_tune,
        new_encoder_dir,
    )

    clock = Stopwatch()
    data = build_training_data(impressions, champion)
    log(f"training data: {data.stats}")
    data_dir = settings.home / "training" / data.fingerprint
    data.save(data_dir)
    pairs_seconds = clock.lap()
    ft = fine_tune(
        champion,
        data,
        new_encoder_dir(settings.models_dir, data),
        fine_tune_config or FineTuneConfig(),
        log=log,
    )
    train_seconds = clock.lap()
    validation = feedback_set(data)
    cache = EmbeddingCache(settings.cache_path)
    try:
        challenger, grid = build_challenger(champion, ft.path, data, cache)
    finally:
        cache.close()
    log(
        f"challenger: feedback memory of {len(challenger.memory)} questions, dense weight "
        f"{challenger.config.dense_weight} (validation nDCG@10 {grid})"
    )
    challenger_seconds = clock.lap()
    gated = [validation, *gate_sets]
    reported = list(report_sets)
    before = evaluate_on(champion, gated + reported)
    after = evaluate_on(challenger, gated + reported)
    dense_before = evaluate_on(champion, gated + reported, method="dense")
    dense_after = evaluate_on(challenger, gated + reported, method="dense")
    policy = challenger_policy([s.name for s in gated], tolerance)
    verdict = decide(flat_metrics(after), flat_metrics(before), policy)
    evaluation_seconds = clock.lap()
    log(f"gate: {'promote' if verdict.promote else 'keep the champion'}: {verdict.reason}")
    # with a registry, promotion there also switches the local CURRENT (one source of truth)
    version = store.write(challenger, activate=verdict.promote and registry is None)
    outcome = RetrainOutcome(
        promoted=verdict.promote,
        reason=verdict.reason,
        champion_version=champion_version,
        challenger_version=version,
        encoder_path=str(ft.path),
        dense_weight=challenger.config.dense_weight,
        weight_grid=grid,
        before={k: v.mean for k, v in before.items()},
        after={k: v.mean for k, v in after.items()},
        dense_before={k: v.mean for k, v in dense_before.items()},
        dense_after={k: v.mean for k, v in dense_after.items()},
        pairs={**data.stats, "fingerprint": data.fingerprint, "path": str(data_dir)},
        fine_tune={
            "base_model": ft.base_model,
            "steps": ft.steps,
            "examples": ft.examples,
            "seconds": round(ft.seconds, 1),
            "device": ft.device,
            "final_loss": ft.final_loss,
            "trained": ft.trained,
            **{k: v for k, v in (fine_tune_config or FineTuneConfig()).__dict__.items()},
        },
        timings=LoopTimings(pairs_seconds, train_seconds, challenger_seconds, evaluation_seconds),
    )
    if registry is not None:
        from lifecycle.loop.records import log_encoder, record_challenger

        encoder_run, encoder_version = log_encoder(registry, ft.path, outcome.fine_tune, data)
        recorded = record_challenger(
            registry,
            store.path(version),
            champion_version,
            before,
            after,
            policy,
            lineage=lineage_tags(encoder_version, encoder_run, data.fingerprint, champion_version),
            metrics=fit_metrics(challenger, grid),
        )
        decision = recorded.pop("decision")
        outcome.promoted, outcome.reason = recorded["promoted"], decision.reason
        outcome.mlflow = {
            "encoder_run": encoder_run,
            "encoder_version": encoder_version,
            **recorded,
            "registry_reason": decision.reason,
        }
    return outcome


def lineage_tags(
    encoder_version: str, encoder_run: str, data_fingerprint: str, champion: str
) -> dict:
    from lifecycle.loop.records import ENCODER_MODEL

    return {
        "docsearch.encoder_model": f"{ENCODER_MODEL} v{encoder_version}",
        "docsearch.encoder_run": encoder_run,
        "docsearch.training_data": data_fingerprint,
        "docsearch.champion_at_training": champion,
    }


def fit_metrics(challenger: SearchIndex, grid: Mapping[float, float]) -> dict[str, float]:
    """What the challenger run logs beside its evaluation: the fitted weight, the fit's grid,
    and the size of its feedback memory."""
    return {
        "dense_weight_fitted": challenger.config.dense_weight,
        "memory_questions": len(challenger.memory or ()),
        **{f"fit/dense_weight_{w}": v for w, v in grid.items()},
    }


def eval_set_of(labeled) -> EvalSet:
    """A LabeledSet as an evaluation set named ``<dataset>-<split>``."""
    return EvalSet(f"{labeled.name}-{labeled.split}", labeled.queries, labeled.qrels)


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
        "reason": outcome.reason,
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
