"""One MLflow run per index build: its params, metrics, tags and artifacts.

Every run says why its version exists (``docsearch.reason``: documents changed, policy changed,
retrained, manual, promoted ...; ``reasons``), the hash of the access policy it enforces
(``docsearch.access.policy_hash``, from its manifest), and what its build encoded and reused
(``chunks_embedded`` + ``chunks_reused`` = ``chunks``), whichever path logged it: the CLI,
``index_job``, the learning loop, a policy change or a promotion."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Self

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from lifecycle.gate import DENSE_RECALL_METRIC
from lifecycle.registry import reasons
from lifecycle.registry.names import (
    EXPERIMENT,
    INDEX_PATH_TAG,
    INDEX_ROOT_TAG,
    INDEX_VERSION_TAG,
    MANIFEST_HASH_TAG,
    MODEL_NAME,
    POLICY_HASH_TAG,
    REASON_DETAIL_TAG,
    REASON_TAG,
    artifact_root_for,
    experiment_for,
    model_name_for,
)
from search.index import MANIFEST, IndexStore, folder_bytes, manifest_sha256, read_manifest
from search.retrieval import FLAT
from search.settings import Settings

if TYPE_CHECKING:  # evaluation pulls in scipy: imported where a run logs or reads one
    from evaluation import Evaluation

EVALUATION_DIR = "evaluation"  # run artifacts: evaluation/<set>.json with per-query values


class RunLog:
    """The runs of index builds in one MLflow experiment, through one ``MlflowClient``."""

    def __init__(
        self,
        tracking_uri: str,
        artifact_root: str | Path | None = None,  # a folder or a URI (s3://...)
        model_name: str = MODEL_NAME,
        experiment: str = EXPERIMENT,
    ) -> None:
        if tracking_uri.startswith("sqlite:///"):
            Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root or None
        self.model_name = model_name
        self.experiment = experiment
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The environment's registry: its tracking store, artifact root, model, experiment."""
        return cls(
            settings.mlflow_uri,
            artifact_root_for(settings),
            model_name=model_name_for(settings),
            experiment=experiment_for(settings),
        )

    def experiment_id(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        location = None
        if self.artifact_root is not None:
            location = str(self.artifact_root)
            if "://" not in location:  # a folder
                Path(location).mkdir(parents=True, exist_ok=True)
                location = Path(location).resolve().as_uri()
            elif location.startswith("file://"):
                Path(location.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        return self.client.create_experiment(self.experiment, artifact_location=location)

    def log_build(
        self,
        index_path: str | Path,
        manifest: Mapping,
        evaluations: Mapping[str, Evaluation],
        metrics: Mapping[str, float],
        tags: Mapping[str, str] = (),
        run_name: str | None = None,
        reason: str | None = None,
    ) -> str:
        """One run per index build: params, metrics, tags and artifacts. Returns the run id.

        ``metrics`` (latency, or what a derived version carries over from its parent) never
        override what the manifest says of this build (its counts, time and size). ``reason``
        names why the version exists when the caller knows (``reasons.RETRAINED``,
        ``reasons.PROMOTED``); otherwise it is what differs from the champion."""
        from evaluation import flat_metrics

        index_path = Path(index_path)
        all_metrics = {
            **metrics,
            **build_metrics(index_path, manifest),
            **flat_metrics(evaluations),
        }
        why = self.reason_for(manifest)
        all_tags = {
            INDEX_VERSION_TAG: index_path.name,
            INDEX_PATH_TAG: str(index_path.resolve()),
            INDEX_ROOT_TAG: str(IndexStore.root_of(index_path)),
            MANIFEST_HASH_TAG: manifest_sha256(index_path),  # checked where it is activated
            POLICY_HASH_TAG: reasons.policy_hash(manifest),
            REASON_TAG: reason or why.reason,
            REASON_DETAIL_TAG: why.detail[:5000],  # MLflow keeps tag values up to 8000 chars
            **dict(tags),
        }
        run = self.client.create_run(
            self.experiment_id(), run_name=run_name or f"index {index_path.name}"
        )
        run_id = run.info.run_id
        try:
            self.client.log_batch(
                run_id,
                metrics=[Metric(k, float(v), 0, 0) for k, v in sorted(all_metrics.items())],
                params=[Param(k, str(v)) for k, v in build_params(index_path, manifest).items()],
                tags=[RunTag(k, str(v)) for k, v in all_tags.items()],
            )
            self.client.log_artifact(run_id, str(index_path / MANIFEST))
            self.client.log_dict(run_id, dict(manifest["config"]), "config.json")
            for name, evaluation in evaluations.items():
                self.client.log_dict(
                    run_id,
                    {"mean": evaluation.mean, "per_query": evaluation.per_query},
                    f"{EVALUATION_DIR}/{name}.json",
                )
        except Exception:
            self.client.set_terminated(run_id, "FAILED")
            raise
        self.client.set_terminated(run_id)
        return run_id

    def log_version(
        self,
        index_path: str | Path,
        evaluations: Mapping[str, Evaluation],
        metrics: Mapping[str, float],
        tags: Mapping[str, str] = (),
        reused: bool = False,
    ) -> tuple[str, bool]:
        """(run id, whether it existed) of an index version's run: a reused version keeps the
        run it already has; otherwise a new run with the build's own metrics (time, counts,
        size), ``metrics`` (latency, say) and the evaluations."""
        index_path = Path(index_path)
        run_id = self.find_build(index_path.name) if reused else None
        if run_id is not None:
            return run_id, True
        manifest = read_manifest(index_path)
        return self.log_build(index_path, manifest, evaluations, metrics, tags), False

    def reason_for(self, manifest: Mapping) -> reasons.Reason:
        """What differs between ``manifest`` and the champion's (``reasons.compare``)."""
        try:
            previous, name = reasons.champion_manifest(self.client, self.model_name)
        except Exception as exc:  # noqa: BLE001 - a run is logged even when this cannot be said
            return reasons.Reason(reasons.UNKNOWN, f"the champion's manifest: {exc}"[:500])
        return reasons.compare(manifest, previous, name)

    def find_build(self, index_version: str) -> str | None:
        """The run that logged ``index_version``, if one did."""
        runs = self.client.search_runs(
            [self.experiment_id()],
            f"tags.`{INDEX_VERSION_TAG}` = '{index_version}'",
            max_results=1,
        )
        return runs[0].info.run_id if runs else None

    def run_metrics(self, run_id: str) -> dict[str, float]:
        return dict(self.client.get_run(run_id).data.metrics)

    def set_run_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def evaluations(self, run_id: str) -> dict[str, Evaluation]:
        """The per-query results a run logged, by evaluation set."""
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(self.client.download_artifacts(run_id, EVALUATION_DIR, tmp))
            out = {}
            for path in sorted(folder.glob("*.json")):
                data = json.loads(path.read_text())
                out[path.stem] = _evaluation(data)
        return out


def build_metrics(index_path: Path, manifest: Mapping) -> dict[str, float]:
    """What a run records of the build itself: time, counts, what was encoded, size on disk,
    the dense index's recall@10 against exact search (``DENSE_RECALL_METRIC``)."""
    build = manifest.get("build", {})
    return {
        "build_seconds": build.get("seconds", 0.0),
        "encode_seconds": build.get("encode_seconds", 0.0),
        "documents": manifest["counts"]["documents"],
        "chunks": manifest["counts"]["chunks"],
        # a manifest that does not say (written before builds said it) was written from a
        # version read back from disk: every vector was reused
        "chunks_embedded": build.get("chunks_embedded", 0),
        "chunks_reused": build.get("chunks_reused", manifest["counts"]["chunks"]),
        "index_bytes": folder_bytes(index_path),
        **_dense_recall(manifest),
    }


def _dense_recall(manifest: Mapping) -> dict[str, float]:
    """The dense index against exact search as measured when built (``build.dense``), 1.0 for
    a flat index; nothing for an approximate index built before recall was measured."""
    dense = manifest.get("build", {}).get("dense", {})
    if "recall_at_10" in dense:
        return {DENSE_RECALL_METRIC: float(dense["recall_at_10"])}
    return {DENSE_RECALL_METRIC: 1.0} if manifest["dense_index"] == FLAT else {}


def build_params(index_path: Path, manifest: Mapping) -> dict:
    """What a run records as params: the encoder, the build and fusion config, fingerprints."""
    config, model = manifest["config"], manifest["model"]
    return {
        "encoder_id": model["id"],
        "encoder_fingerprint": model["fingerprint"],
        "query_encoder_fingerprint": model.get("query_fingerprint", model["fingerprint"]),
        "encoder_dim": model["dim"],
        "encoder_backend": model.get("backend", "torch"),
        "query_encoder_backend": model.get("query_backend", model.get("backend", "torch")),
        "encoder_weights_fingerprint": model.get("weights_fingerprint", model["fingerprint"]),
        "encoder_calibration": model.get("calibration", ""),
        **{
            k: config[k]
            for k in (
                "chunk_tokens",
                "chunk_overlap",
                "title_in_chunks",
                "bm25_k1",
                "bm25_b",
                "bm25_method",
                "fusion",
                "rrf_k",
                "dense_weight",
            )
        },
        "faiss_index": manifest["dense_index"],
        "corpus_fingerprint": manifest["corpus_fingerprint"],
        "config_fingerprint": manifest["config_fingerprint"],
        "index_version": index_path.name,
    }


def _evaluation(data: dict) -> Evaluation:
    from evaluation import Evaluation

    return Evaluation(mean=data["mean"], per_query=data["per_query"])
