"""Training: feedback -> pairs -> fine-tuned encoder -> challenger index -> gated promotion."""

import dagster as dg

from dagster_project.assets.registry import code_version
from dagster_project.resources import DocsearchSettings, MlflowTracker
from evaluation.beir import load_labeled_set
from lifecycle.feedback import FeedbackStore
from lifecycle.loop import (
    FEEDBACK_SET,
    VALIDATION_FRACTION,
    FineTuneConfig,
    TrainingData,
    build_challenger,
    build_training_data,
    challenger_policy,
    eval_set_of,
    evaluate_on,
    feedback_set,
    fine_tune,
    fit_metrics,
    flat_metrics,
    lineage_tags,
    log_encoder,
    new_encoder_dir,
    record_challenger,
)
from lifecycle.registry import resolve_champion
from search.encoding import EmbeddingCache

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


def _champion(docsearch: DocsearchSettings):
    """(version id, index) of what serves now: the MLflow champion, else the local CURRENT."""
    store = docsearch.store()
    champion = resolve_champion(docsearch.settings())
    version = champion.path.name if champion else store.current()
    if version is None:
        raise dg.Failure("No index serves yet: materialize index_job first.")
    return version, store.load(version)


@dg.asset(
    group_name=GROUP,
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
    settings = docsearch.settings()
    version, champion = _champion(docsearch)
    store = docsearch.store()
    versions = set(store.versions())
    feedback = FeedbackStore(settings.feedback_url)
    try:
        impressions = [i for i in feedback.impressions() if i.index_version in versions]
    finally:
        feedback.close()
    data = build_training_data(impressions, champion, config.validation_fraction)
    folder = settings.home / "training" / data.fingerprint
    data.save(folder)
    context.log.info(f"training data {data.fingerprint}: {data.stats}")
    return dg.MaterializeResult(
        value={"path": str(folder), "champion_version": version},
        metadata={
            **data.stats,
            "fingerprint": data.fingerprint,
            "path": dg.MetadataValue.path(str(folder)),
            "champion_version": version,
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
    from pathlib import Path

    settings = docsearch.settings()
    data = TrainingData.load(Path(training_pairs["path"]))
    if not data.pairs:
        raise dg.Failure("No training pairs: more clicks or votes are needed first.")
    champion = _trained_from(docsearch, training_pairs)
    result = fine_tune(
        champion,
        data,
        new_encoder_dir(settings.models_dir, data),
        config.fine_tune(),
        log=context.log.info,
    )
    summary = {
        "base_model": result.base_model,
        "steps": result.steps,
        "examples": result.examples,
        "seconds": round(result.seconds, 1),
        "device": result.device,
        "final_loss": result.final_loss,
        "trained": result.trained,
        **config.fine_tune().__dict__,
    }
    run_id, version = log_encoder(mlflow.registry(), result.path, summary, data)
    return dg.MaterializeResult(
        value={"path": str(result.path), "encoder_run": run_id, "encoder_version": version},
        metadata={**{k: v for k, v in summary.items() if v is not None}, "mlflow_version": version},
    )


@dg.asset(group_name=GROUP)
def challenger_index(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    training_pairs: dict,
    fine_tuned_encoder: dict,
):
    """The champion's chunks and BM25 with vectors from the fine-tuned encoder, a feedback
    memory of the training questions' clicks, and its fusion weight re-fitted on the held-back
    feedback; a new (not current) IndexStore version."""
    from pathlib import Path

    settings = docsearch.settings()
    data = TrainingData.load(Path(training_pairs["path"]))
    champion = _trained_from(docsearch, training_pairs)
    cache = EmbeddingCache(settings.cache_path)
    try:
        challenger, grid = build_challenger(champion, Path(fine_tuned_encoder["path"]), data, cache)
    finally:
        cache.close()
    version = docsearch.store().write(challenger, activate=False)
    context.log.info(f"challenger {version}: dense weight {challenger.config.dense_weight}")
    return dg.MaterializeResult(
        value={"version": version, "path": str(docsearch.store().path(version))},
        metadata={
            "version": version,
            "dense_weight": challenger.config.dense_weight,
            "memory_questions": len(challenger.memory or ()),
            **{f"validation ndcg_at_10 @ w={w}": v for w, v in grid.items()},
            "chunks_embedded": challenger.build_stats.chunks_embedded,
            "encode_seconds": round(challenger.build_stats.encode_seconds, 1),
        },
    )


@dg.asset(group_name=GROUP)
def challenger_decision(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    mlflow: MlflowTracker,
    training_pairs: dict,
    fine_tuned_encoder: dict,
    challenger_index: dict,
):
    """Champion and challenger on the held-back feedback and every labeled set; the challenger
    is registered, and becomes ``champion`` only if it is better on the feedback's nDCG@10 with
    no regression beyond the tolerance; otherwise it stays ``challenger``."""
    from pathlib import Path

    data = TrainingData.load(Path(training_pairs["path"]))
    version = training_pairs["champion_version"]
    champion = _trained_from(docsearch, training_pairs)
    challenger = docsearch.store().load(challenger_index["version"])
    sets = [feedback_set(data)]
    for root in docsearch.labeled_sets().values():
        sets.append(eval_set_of(load_labeled_set(root, with_documents=False)))
    same_corpus = {s.name for s in sets[1:] if _covers(champion, s)}
    sets = [sets[0], *[s for s in sets[1:] if s.name in same_corpus]]
    before, after = evaluate_on(champion, sets), evaluate_on(challenger, sets)
    policy = challenger_policy([s.name for s in sets], docsearch.regression_tolerance)
    recorded = record_challenger(
        mlflow.registry(),
        Path(challenger_index["path"]),
        version,
        before,
        after,
        policy,
        lineage={
            **lineage_tags(
                fine_tuned_encoder["encoder_version"],
                fine_tuned_encoder["encoder_run"],
                data.fingerprint,
                version,
            ),
            "dagster.run_id": context.run_id,
            "code_version": code_version(),
        },
        metrics=fit_metrics(challenger, {}),
    )
    decision = recorded["decision"]
    (context.log.info if recorded["promoted"] else context.log.warning)(
        f"gate: {'promote' if recorded['promoted'] else 'keep the champion'}: {decision.reason}"
    )
    return dg.MaterializeResult(
        value={"promoted": recorded["promoted"], "version": recorded["challenger_version"]},
        metadata={
            "decision": "promote" if recorded["promoted"] else "reject",
            "reason": decision.reason,
            "challenger": f"v{recorded['challenger_version']}",
            "champion_before": f"v{recorded['champion_version_before']}",
            **{f"before {k}": v for k, v in flat_metrics(before).items()},
            **{f"after {k}": v for k, v in flat_metrics(after).items()},
            "primary": f"{FEEDBACK_SET}/ndcg_at_10",
        },
    )


def _trained_from(docsearch: DocsearchSettings, training_pairs: dict):
    """The champion the pairs were built on: every step of one run uses the same version, even
    if the champion alias moves while the run is going."""
    return docsearch.store().load(training_pairs["champion_version"])


def _covers(index, labeled_set) -> bool:
    """A labeled set can be run against an index only when its judged documents are in it."""
    judged = {d for docs in labeled_set.qrels.values() for d in docs}
    return bool(judged) and judged <= set(index.documents)
