"""Training: feedback -> pairs -> fine-tuned encoder -> challenger index -> gated promotion.

Each asset calls one step of ``lifecycle.loop.steps``, the same steps ``docsearch retrain``
composes, and hands the next asset what it needs to load (paths and version ids)."""

from pathlib import Path

import dagster as dg

from dagster_project.assets.feedback import FEEDBACK_EVENTS
from dagster_project.assets.registry import code_version
from dagster_project.resources import DocsearchSettings, MlflowTracker
from evaluation import flat_metrics
from evaluation.beir import load_labeled_set
from lifecycle.environments import evidence_for
from lifecycle.experiments import OnlineGate
from lifecycle.loop import (
    FEEDBACK_SET,
    VALIDATION_FRACTION,
    ChallengerBuild,
    ChampionIndex,
    FineTuneConfig,
    TrainedEncoder,
    TrainingData,
    build_challenger_version,
    collect_impressions,
    eval_set_of,
    judge_challenger,
    prepare_training_data,
    serving_champion,
    train_encoder,
)

GROUP = "training"
HAS_PAIRS = "has_pairs"
HAS_VALIDATION = "has_validation"


class TrainingConfig(dg.Config):
    """Hyperparameters of one turn of the loop (editable in the launchpad)."""

    epochs: int = FineTuneConfig.epochs
    batch_size: int = FineTuneConfig.batch_size
    learning_rate: float = FineTuneConfig.learning_rate
    max_seq_length: int = FineTuneConfig.max_seq_length
    train_documents: bool = FineTuneConfig.documents  # re-encodes the whole corpus: wants a GPU
    validation_fraction: float = VALIDATION_FRACTION

    def fine_tune(self) -> FineTuneConfig:
        return FineTuneConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            max_seq_length=self.max_seq_length,
            documents=self.train_documents,
        )


@dg.asset(
    group_name=GROUP,
    # what the pairs come from: the feedback events, shown on the serving index version
    deps=[FEEDBACK_EVENTS, "champion_alias"],
    check_specs=[
        dg.AssetCheckSpec(
            HAS_PAIRS, asset="training_pairs", description="At least one training pair."
        ),
        dg.AssetCheckSpec(
            HAS_VALIDATION,
            asset="training_pairs",
            description="Some feedback is held back to choose fusion weights and to gate.",
        ),
    ],
)
def training_pairs(
    context: dg.AssetExecutionContext, config: TrainingConfig, docsearch: DocsearchSettings
):
    """(query, clicked or up-voted passage, skipped or down-voted passage) from the feedback
    store, de-duplicated, position-bias weighted, with a held-back validation slice. Saved under
    DOCSEARCH_HOME/training/<fingerprint> with the feedback event ids behind it (lineage)."""
    settings, store = docsearch.settings(), docsearch.store()
    try:
        champion = serving_champion(settings, store)
    except LookupError as exc:
        raise dg.Failure(str(exc)) from exc
    impressions = collect_impressions(settings.feedback_url, store)
    prepared = prepare_training_data(
        impressions, champion, settings.home, config.validation_fraction, log=context.log.info
    )
    data = prepared.data
    return dg.MaterializeResult(
        value={"path": str(prepared.path), "champion_version": champion.version},
        metadata={
            **data.stats,
            "fingerprint": data.fingerprint,
            "path": dg.MetadataValue.path(str(prepared.path)),
            "champion_version": champion.version,
            "feedback_index_versions": ", ".join(data.index_versions),
        },
        check_results=[
            dg.AssetCheckResult(check_name=HAS_PAIRS, passed=bool(data.pairs)),
            dg.AssetCheckResult(check_name=HAS_VALIDATION, passed=bool(data.validation_queries)),
        ],
    )


@dg.asset(group_name=GROUP)
def fine_tuned_encoder(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    docsearch: DocsearchSettings,
    mlflow: MlflowTracker,
    training_pairs: dict,
):
    """The serving encoder fine-tuned on the pairs, on the GPU when there is one; logged and
    registered as ``docsearch-encoder``. By default only its query side learns, against the
    champion's passage vectors (every indexed document a negative); ``train_documents`` trains
    both sides with MultipleNegativesRankingLoss (in-batch plus hard negatives)."""
    data = TrainingData.load(Path(training_pairs["path"]))
    if not data.pairs:
        raise dg.Failure("No training pairs: more clicks or votes are needed first.")
    trained = train_encoder(
        _trained_from(docsearch, training_pairs),
        data,
        docsearch.settings().models_dir,
        config.fine_tune(),
        mlflow.registry(),
        log=context.log.info,
    )
    return dg.MaterializeResult(
        value=trained,
        metadata={
            **{k: v for k, v in trained.summary.items() if v is not None},
            "mlflow_version": trained.mlflow_version,
        },
    )


@dg.asset(group_name=GROUP)
def challenger_index(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    training_pairs: dict,
    fine_tuned_encoder: TrainedEncoder,
):
    """The champion's chunks and BM25 with vectors from the fine-tuned encoder, a choice
    memory of the training questions' clicks, and its fusion weight re-fitted on the held-back
    feedback; a new (not current) IndexStore version."""
    _, build = build_challenger_version(
        _trained_from(docsearch, training_pairs),
        fine_tuned_encoder.path,
        TrainingData.load(Path(training_pairs["path"])),
        docsearch.settings().cache_path,
        log=context.log.info,
    )
    return dg.MaterializeResult(
        value=build,
        metadata={
            "version": build.version,
            "dense_weight": build.dense_weight,
            "memory_questions": build.memory_questions,
            **{f"validation ndcg_at_10 @ w={w}": v for w, v in build.weight_grid.items()},
            "chunks_embedded": build.chunks_embedded,
            "encode_seconds": round(build.encode_seconds, 1),
        },
    )


@dg.asset(group_name=GROUP)
def challenger_decision(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    mlflow: MlflowTracker,
    training_pairs: dict,
    fine_tuned_encoder: TrainedEncoder,
    challenger_index: ChallengerBuild,
):
    """Champion and challenger on the held-back feedback and every labeled set that covers the
    index; the challenger is registered, and becomes ``champion`` only if it is better on the
    feedback's nDCG@10 with no regression beyond the tolerance and its gain is significant on
    enough labeled queries (the environment's ``gate_min_queries``, ``gate_alpha``); otherwise
    it stays ``challenger`` (rejected, or keep collecting)."""
    champion = _trained_from(docsearch, training_pairs)
    labeled = [
        load_labeled_set(root, with_documents=False) for root in docsearch.labeled_sets().values()
    ]
    judged = judge_challenger(
        champion,
        champion.store.load(challenger_index.version),
        challenger_index,
        TrainingData.load(Path(training_pairs["path"])),
        gate_sets=[eval_set_of(s) for s in labeled],
        tolerance=docsearch.policy().tolerance,
        evidence=evidence_for(docsearch.settings()),
        registry=mlflow.registry(),
        encoder=fine_tuned_encoder,
        tags={"dagster.run_id": context.run_id, "code_version": code_version()},
        online=OnlineGate.of(docsearch.settings()),
        log=context.log.info,
    )
    _show_next_version(context, champion.version, challenger_index.version, judged)
    return dg.MaterializeResult(
        value={"promoted": judged.promoted, "version": judged.mlflow["challenger_version"]},
        metadata={
            "decision": judged.decision.outcome,
            "reason": judged.reason,
            "challenger": f"v{judged.mlflow['challenger_version']}",
            "champion_before": f"v{judged.mlflow['champion_version_before']}",
            "parent_index_version": champion.version,
            "skipped_sets": ", ".join(judged.skipped),
            **{f"before {k}": v for k, v in flat_metrics(judged.before).items()},
            **{f"after {k}": v for k, v in flat_metrics(judged.after).items()},
            "primary": f"{FEEDBACK_SET}/ndcg_at_10",
        },
    )


def _trained_from(docsearch: DocsearchSettings, training_pairs: dict) -> ChampionIndex:
    """The champion the pairs were built on: every step of one run uses the same version, even
    if the champion alias moves while the run is going."""
    return ChampionIndex.load(docsearch.store(), training_pairs["champion_version"])


def _show_next_version(context, parent: str, version: str, judged) -> None:
    """The challenger as the next materialization of ``index_version`` (and, when the gate
    promotes it, of ``champion_alias``), naming the index version it came from: the graph
    shows one line of index versions, whichever job made each."""
    registered = f"v{judged.mlflow['challenger_version']}"
    context.log_event(
        dg.AssetMaterialization(
            "index_version",
            metadata={"version": version, "parent_index_version": parent},
            tags={"docsearch/made_by": "retrain_job"},
        )
    )
    if judged.promoted:
        context.log_event(
            dg.AssetMaterialization(
                "champion_alias",
                metadata={"decision": "promote", "champion": registered, "parent": parent},
                tags={"docsearch/made_by": "retrain_job"},
            )
        )
