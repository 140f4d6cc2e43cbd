"""MLflow records of the learning loop: the fine-tuned encoder and the challenger index."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from evaluation.metrics import Evaluation
from lifecycle.gate import GainEvidence, GatePolicy
from lifecycle.loop.pairs import TrainingData
from lifecycle.registry import CHAMPION, Registry
from lifecycle.registry.reasons import RETRAINED

ENCODER_MODEL = "docsearch-encoder"


def log_encoder(
    registry: Registry, encoder_path: str | Path, fine_tune: Mapping, data: TrainingData
) -> tuple[str, str]:
    """One run with the fine-tuned encoder's folder, registered as a ``docsearch-encoder``
    version with its lineage (base model, training-data fingerprint, hyperparameters)."""
    client = registry.client
    ft = fine_tune
    run = client.create_run(registry.experiment_id(), run_name=f"encoder {data.fingerprint}")
    run_id = run.info.run_id
    lineage = {
        "docsearch.base_model": ft["base_model"],
        "docsearch.training_data": data.fingerprint,
        "docsearch.feedback_events": str(len(data.query_ids)),
        "docsearch.feedback_index_versions": ",".join(data.index_versions),
        "docsearch.kind": "encoder",
    }
    params = {
        k: ft[k]
        for k in (
            "base_model",
            "epochs",
            "batch_size",
            "learning_rate",
            "warmup_ratio",
            "max_seq_length",
            "seed",
            "device",
        )
    }
    metrics = {
        "train_seconds": ft["seconds"],
        "train_steps": ft["steps"],
        "train_examples": ft["examples"],
        "pairs": data.stats.get("pairs", 0),
        "validation_queries": data.stats.get("validation_queries", 0),
    }
    if ft.get("final_loss") is not None:
        metrics["final_loss"] = ft["final_loss"]
    if ft.get("mixture_scores"):  # the mixing weight chosen and the held-back nDCG@10 at each
        metrics["mixture_alpha"] = ft["mixture_alpha"]
        metrics.update({f"mixture/alpha_{a}": v for a, v in ft["mixture_scores"].items()})
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()],
        params=[Param(k, str(v)) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in lineage.items()],
    )
    client.log_artifacts(run_id, str(encoder_path), "encoder")
    client.log_dict(run_id, data.stats, "training_data/stats.json")
    client.set_terminated(run_id)
    try:
        client.create_registered_model(ENCODER_MODEL)
    except MlflowException:
        pass
    version = client.create_model_version(
        ENCODER_MODEL, f"{run.info.artifact_uri}/encoder", run_id, tags=lineage
    )
    return run_id, str(version.version)


def lineage_tags(
    encoder_version: str, encoder_run: str, data_fingerprint: str, champion: str
) -> dict:
    """Tags that tie a challenger to the encoder version and run, the training data and the
    champion it was trained from."""
    return {
        "docsearch.encoder_model": f"{ENCODER_MODEL} v{encoder_version}",
        "docsearch.encoder_run": encoder_run,
        "docsearch.training_data": data_fingerprint,
        "docsearch.champion_at_training": champion,
    }


def record_challenger(
    registry: Registry,
    index_path: Path,
    champion_version: str,
    before: Mapping[str, Evaluation],
    after: Mapping[str, Evaluation],
    policy: GatePolicy,
    lineage: Mapping[str, str],
    metrics: Mapping[str, float] = (),
    evidence: GainEvidence | None = None,
    hold: bool = False,
) -> dict:
    """Log and register the challenger, and move the aliases by the gate (``hold``: a version
    that passes stays challenger until an online win, ``lifecycle.experiments``).

    The champion's run receives its scores on the same sets (held-back feedback included), so
    the MLflow UI shows both versions side by side on identical queries. An index that was
    never registered (one built by ``docsearch eval``) is first registered as the champion.
    """
    from search.index import read_manifest

    champion_mv = registry.alias(CHAMPION)
    champion_run = registry.find_build(champion_version)
    if champion_run is None:
        champion_path = index_path.parent / champion_version
        champion_run = registry.log_build(
            champion_path,
            read_manifest(champion_path),
            before,
            {},
            run_name="champion (retrain base)",
        )
        champion_mv = registry.register(champion_run, champion_path)
        registry.promote(str(champion_mv.version), force=True)
    else:
        _add_evaluations(registry, champion_run, before)
    run_id = registry.log_build(
        index_path,
        read_manifest(index_path),
        after,
        dict(metrics),
        tags={**lineage, "docsearch.kind": "challenger"},
        run_name=f"challenger {index_path.name}",
        reason=RETRAINED,
    )
    version = registry.register(run_id, index_path)
    decision, promoted = registry.promote(
        str(version.version), policy, evidence=evidence, hold=hold
    )
    return {
        "challenger_run": run_id,
        "challenger_version": str(version.version),
        "champion_version_before": str(champion_mv.version) if champion_mv else None,
        "decision": decision,
        "promoted": promoted,
        "held_for_online": decision.promote and hold,
    }


def _add_evaluations(
    registry: Registry, run_id: str, evaluations: Mapping[str, Evaluation]
) -> None:
    # A champion is scored again on every turn's held-back feedback. MLflow shows (and the gate
    # reads) the value of the highest step, and of equal steps the highest value, so each
    # re-scoring goes one step past the last: the fresh score wins even when it is lower.
    client = registry.client
    now = int(time.time() * 1000)
    metrics = []
    for name, ev in evaluations.items():
        for m, v in ev.mean.items():
            key = f"{name}/{m}"
            step = max((h.step for h in client.get_metric_history(run_id, key)), default=-1) + 1
            metrics.append(Metric(key, float(v), now, step))
    client.log_batch(run_id, metrics=metrics)
    for name, ev in evaluations.items():
        client.log_text(
            run_id,
            json.dumps({"mean": ev.mean, "per_query": ev.per_query}),
            f"evaluation/{name}.json",
        )
