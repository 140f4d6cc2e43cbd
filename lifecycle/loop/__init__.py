"""The learning loop: feedback to training pairs, a fine-tuned encoder, a challenger, the gate.

``steps`` holds the five steps of one turn (what each Dagster training asset calls once);
``retraining.retrain`` composes them for the CLI. ``pairs``, ``fine_tuning``, ``loss``,
``challenger`` and ``evaluation_sets`` are what the steps are made of; ``records`` writes MLflow;
``simulation`` replays labeled queries as clicking users.
"""

from lifecycle.loop.challenger import (
    WEIGHT_GRID,
    build_challenger,
    challenger_policy,
    fit_dense_weight,
    fit_metrics,
)
from lifecycle.loop.evaluation_sets import (
    FEEDBACK_SET,
    EvalSet,
    benchmark_sets,
    covers,
    eval_set_of,
    evaluate_on,
    feedback_set,
    held_out_set,
)
from lifecycle.loop.fine_tuning import (
    FineTuneConfig,
    FineTuneResult,
    fine_tune,
    new_encoder_dir,
)
from lifecycle.loop.loss import MAX_NEGATIVE_CHUNKS, AllPassagesLoss
from lifecycle.loop.mixing import MIX_GRID, Mixture, choose_mixture, write_mixture
from lifecycle.loop.pairs import (
    ETA,
    MAX_PROPENSITY_WEIGHT,
    VALIDATION_FRACTION,
    TrainingData,
    TrainingPair,
    build_training_data,
    is_validation,
    training_data_dir,
)
from lifecycle.loop.records import (
    ENCODER_MODEL,
    lineage_tags,
    log_encoder,
    record_challenger,
)
from lifecycle.loop.retraining import (
    LoopTimings,
    RetrainOutcome,
    Stopwatch,
    retrain,
    summary,
)
from lifecycle.loop.simulation import (
    ClickModel,
    SimulationReport,
    simulate_feedback,
)
from lifecycle.loop.steps import (
    ChallengerBuild,
    ChampionIndex,
    Judgement,
    PreparedData,
    TrainedEncoder,
    build_challenger_version,
    collect_impressions,
    judge_challenger,
    prepare_training_data,
    serving_champion,
    train_encoder,
)

__all__ = [
    "benchmark_sets",
    "AllPassagesLoss",
    "ChallengerBuild",
    "ChampionIndex",
    "ClickModel",
    "ENCODER_MODEL",
    "ETA",
    "EvalSet",
    "FEEDBACK_SET",
    "FineTuneConfig",
    "FineTuneResult",
    "Judgement",
    "LoopTimings",
    "MAX_NEGATIVE_CHUNKS",
    "MAX_PROPENSITY_WEIGHT",
    "MIX_GRID",
    "Mixture",
    "PreparedData",
    "RetrainOutcome",
    "SimulationReport",
    "Stopwatch",
    "TrainedEncoder",
    "TrainingData",
    "TrainingPair",
    "VALIDATION_FRACTION",
    "WEIGHT_GRID",
    "build_challenger",
    "build_challenger_version",
    "build_training_data",
    "challenger_policy",
    "choose_mixture",
    "collect_impressions",
    "covers",
    "eval_set_of",
    "evaluate_on",
    "feedback_set",
    "fine_tune",
    "fit_dense_weight",
    "fit_metrics",
    "held_out_set",
    "is_validation",
    "judge_challenger",
    "lineage_tags",
    "log_encoder",
    "new_encoder_dir",
    "prepare_training_data",
    "record_challenger",
    "retrain",
    "serving_champion",
    "simulate_feedback",
    "summary",
    "train_encoder",
    "training_data_dir",
    "write_mixture",
]
