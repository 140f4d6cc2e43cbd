"""Index versions in MLflow: one run per build, a pyfunc model per version, champion aliases.

The registered model ``docsearch-index`` wraps an index directory. The alias ``champion`` names
the version that serves; ``challenger`` the newest build the gate did not promote. Promotion
also points the local ``IndexStore``'s CURRENT at the champion, so the CLI, the app and
``models:/docsearch-index@champion`` all answer from the same index.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from importlib import metadata as _metadata
from pathlib import Path
from typing import NamedTuple

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param, RunTag
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from evaluation.compare import MetricDelta, compare
from evaluation.metrics import Evaluation
from lifecycle.gate import GateDecision, GatePolicy, decide, is_quality_metric
from search.settings import Settings

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "MODEL_NAME",
    "Champion",
    "IndexModel",
    "Registry",
    "resolve_champion",
]

MODEL_NAME = "docsearch-index"
EXPERIMENT = "docsearch"
CHAMPION = "champion"
CHALLENGER = "challenger"
MODEL_DIR = "index_model"  # where the pyfunc model sits among the run's artifacts
HISTORY_TAG = "docsearch.champion_history"  # registered-model tag: versions promoted, in order
INDEX_VERSION_TAG = "docsearch.index_version"
INDEX_PATH_TAG = "docsearch.index_path"
INDEX_ROOT_TAG = "docsearch.index_root"
_REQUIREMENTS = ("numpy", "pandas", "faiss-cpu", "bm25s", "PyStemmer", "sentence-transformers")


class IndexModel(mlflow.pyfunc.PythonModel):
    """A pyfunc over an index directory: queries in, ranked documents out.

    ``predict`` takes a list of query strings, one string, or a DataFrame with a ``query``
    column (optional ``k``, default 10, and ``method``, default hybrid, columns). It returns one
    row per result: query, rank, doc_id, title, score, snippet.
    """

    def load_context(self, context) -> None:
        from search.index import SearchIndex

        self.index = SearchIndex.load(context.artifacts["index"])

    def predict(
        self, context, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        if isinstance(model_input, str):
            model_input = [model_input]
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame({"query": list(model_input)})
        rows = []
        for _, row in model_input.iterrows():
            k = int(row["k"]) if "k" in row and pd.notna(row["k"]) else 10
            method = row["method"] if "method" in row and pd.notna(row["method"]) else "hybrid"
            for r in self.index.search(str(row["query"]), k=k, method=method):
                rows.append(
                    {
                        "query": row["query"],
                        "rank": r.rank,
                        "doc_id": r.doc_id,
                        "title": r.title,
                        "score": r.score,
                        "snippet": r.snippet.text,
                    }
                )
        columns = ["query", "rank", "doc_id", "title", "score", "snippet"]
        return pd.DataFrame(rows, columns=columns)


class Champion(NamedTuple):
    """What serves: a label for people ("docsearch-index v3") and the index folder to load."""

    label: str
    path: Path


class Registry:
    """MLflow runs and registered versions of indexes, through one ``MlflowClient``."""

    def __init__(
        self,
        tracking_uri: str,
        artifact_root: str | Path | None = None,
        model_name: str = MODEL_NAME,
        experiment: str = EXPERIMENT,
    ) -> None:
        if tracking_uri.startswith("sqlite:///"):
            Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.tracking_uri = tracking_uri
        self.artifact_root = Path(artifact_root) if artifact_root else None
        self.model_name = model_name
        self.experiment = experiment
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        return cls(settings.mlflow_uri, settings.mlflow_artifacts)

    # ------------------------------------------------------------------ runs
    def experiment_id(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        location = None
        if self.artifact_root is not None:
            self.artifact_root.mkdir(parents=True, exist_ok=True)
            location = self.artifact_root.resolve().as_uri()
        return self.client.create_experiment(self.experiment, artifact_location=location)

    def log_build(
        self,
        index_path: str | Path,
        manifest: Mapping,
        evaluations: Mapping[str, Evaluation],
        metrics: Mapping[str, float],
        tags: Mapping[str, str] = (),
        run_name: str | None = None,
    ) -> str:
        """One run per index build: params, metrics, tags and artifacts. Returns the run id."""
        index_path = Path(index_path)
        config = manifest["config"]
        params = {
            "encoder_id": manifest["model"]["id"],
            "encoder_fingerprint": manifest["model"]["fingerprint"],
            "query_encoder_fingerprint": manifest["model"].get(
                "query_fingerprint", manifest["model"]["fingerprint"]
            ),
            "encoder_dim": manifest["model"]["dim"],
            "chunk_tokens": config["chunk_tokens"],
            "chunk_overlap": config["chunk_overlap"],
            "title_in_chunks": config["title_in_chunks"],
            "bm25_k1": config["bm25_k1"],
            "bm25_b": config["bm25_b"],
            "bm25_method": config["bm25_method"],
            "fusion": config["fusion"],
            "rrf_k": config["rrf_k"],
            "dense_weight": config["dense_weight"],
            "faiss_index": manifest["dense_index"],
            "corpus_fingerprint": manifest["corpus_fingerprint"],
            "config_fingerprint": manifest["config_fingerprint"],
            "index_version": index_path.name,
        }
        all_metrics = dict(metrics)
        for name, evaluation in evaluations.items():
            all_metrics.update({f"{name}/{m}": v for m, v in evaluation.mean.items()})
        all_tags = {
            INDEX_VERSION_TAG: index_path.name,
            INDEX_PATH_TAG: str(index_path.resolve()),
            INDEX_ROOT_TAG: str(index_path.resolve().parent.parent),
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
                params=[Param(k, str(v)) for k, v in params.items()],
                tags=[RunTag(k, str(v)) for k, v in all_tags.items()],
            )
            self.client.log_artifact(run_id, str(index_path / "manifest.json"))
            self.client.log_dict(run_id, dict(config), "config.json")
            for name, evaluation in evaluations.items():
                self.client.log_dict(
                    run_id,
                    {"mean": evaluation.mean, "per_query": evaluation.per_query},
                    f"evaluation/{name}.json",
                )
        except Exception:
            self.client.set_terminated(run_id, "FAILED")
            raise
        self.client.set_terminated(run_id)
        return run_id

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

    # ------------------------------------------------------------- registry
    def register(self, run_id: str, index_path: str | Path) -> ModelVersion:
        """Log the index directory as a pyfunc model of ``run_id`` and register it."""
        pyfunc_log = logging.getLogger("mlflow.pyfunc")
        level = pyfunc_log.level
        # No signature on purpose: predict takes a list of strings or a DataFrame with optional
        # columns, which one schema cannot express; and the class is pickled by reference.
        pyfunc_log.setLevel(logging.ERROR)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / MODEL_DIR
            mlflow.pyfunc.save_model(
                str(local),
                python_model=IndexModel(),
                artifacts={"index": str(index_path)},
                pip_requirements=_requirements(),
            )
            pyfunc_log.setLevel(level)
            self.client.log_artifacts(run_id, str(local), MODEL_DIR)
        try:
            self.client.create_registered_model(self.model_name)
        except MlflowException:
            pass  # it exists already
        run = self.client.get_run(run_id)
        source = f"{run.info.artifact_uri}/{MODEL_DIR}"
        tags = {k: v for k, v in run.data.tags.items() if k.startswith("docsearch.")}
        return self.client.create_model_version(self.model_name, source, run_id, tags=tags)

    def version_for_run(self, run_id: str) -> ModelVersion | None:
        found = self.client.search_model_versions(
            f"name = '{self.model_name}' and run_id = '{run_id}'"
        )
        return found[0] if found else None

    def alias(self, alias: str) -> ModelVersion | None:
        try:
            return self.client.get_model_version_by_alias(self.model_name, alias)
        except MlflowException:
            return None

    def version(self, ref: str) -> ModelVersion:
        """A version by number ("3", "v3") or alias ("champion")."""
        ref = str(ref)
        number = ref[1:] if ref[:1] in "vV" and ref[1:].isdigit() else ref
        if number.isdigit():
            try:
                return self.client.get_model_version(self.model_name, number)
            except MlflowException as exc:
                raise ValueError(f"{self.model_name} has no version {number}") from exc
        found = self.alias(ref)
        if found is None:
            raise ValueError(f"{self.model_name} has no version or alias {ref!r}")
        return found

    def champion_metrics(self) -> dict[str, float] | None:
        champion = self.alias(CHAMPION)
        return self.run_metrics(champion.run_id) if champion else None

    def history(self) -> list[str]:
        try:
            tags = self.client.get_registered_model(self.model_name).tags
        except MlflowException:
            return []
        raw = tags.get(HISTORY_TAG, "")
        return [v for v in raw.split(",") if v]

    def _set_champion(self, version: str, history: list[str]) -> None:
        self.client.set_registered_model_alias(self.model_name, CHAMPION, version)
        self.client.set_registered_model_tag(self.model_name, HISTORY_TAG, ",".join(history))
        challenger = self.alias(CHALLENGER)
        if challenger is not None and str(challenger.version) == version:
            self.client.delete_registered_model_alias(self.model_name, CHALLENGER)

    def decide(self, ref: str, policy: GatePolicy = GatePolicy()) -> GateDecision:
        """The gate's verdict on a version against the champion (which it is not)."""
        candidate = self.version(ref)
        champion = self.alias(CHAMPION)
        against = None
        if champion is not None and str(champion.version) != str(candidate.version):
            against = self.run_metrics(champion.run_id)
        return decide(self.run_metrics(candidate.run_id), against, policy)

    def promote(
        self, ref: str, policy: GatePolicy = GatePolicy(), force: bool = False
    ) -> tuple[GateDecision, bool]:
        """Move ``champion`` to a version if the gate passes (or ``force``). A rejected version
        becomes ``challenger``. The decision is tagged on the version's run. Returns
        (decision, promoted)."""
        candidate = self.version(ref)
        champion = self.alias(CHAMPION)
        if champion is not None and str(champion.version) == str(candidate.version):
            raise ValueError(f"v{candidate.version} is already the champion")
        decision = self.decide(candidate.version, policy)
        promoted = decision.promote or force
        tags = decision.as_tags() | {"gate.forced": str(force and not decision.promote).lower()}
        self.set_run_tags(candidate.run_id, tags)
        for key, value in tags.items():
            self.client.set_model_version_tag(self.model_name, candidate.version, key, value)
        if promoted:
            number = str(candidate.version)
            history = [v for v in self.history() if v != number] + [number]
            self._set_champion(number, history)
            activate_local(self.client.get_model_version(self.model_name, candidate.version))
        else:
            self.client.set_registered_model_alias(self.model_name, CHALLENGER, candidate.version)
        return decision, promoted

    def rollback(self) -> ModelVersion:
        """Point ``champion`` back at the version that held it before the current one."""
        history = self.history()
        champion = self.alias(CHAMPION)
        if champion is not None and history and history[-1] == str(champion.version):
            history = history[:-1]
        if not history:
            raise ValueError(f"{self.model_name} has no earlier champion to roll back to")
        self._set_champion(history[-1], history)
        previous = self.client.get_model_version(self.model_name, history[-1])
        activate_local(previous)
        return previous

    # -------------------------------------------------------------- compare
    def evaluations(self, run_id: str) -> dict[str, Evaluation]:
        """The per-query results a run logged, by evaluation set."""
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(self.client.download_artifacts(run_id, "evaluation", tmp))
            out = {}
            for path in sorted(folder.glob("*.json")):
                data = json.loads(path.read_text())
                out[path.stem] = Evaluation(mean=data["mean"], per_query=data["per_query"])
        return out

    def compare(self, a: str, b: str) -> dict[str, list[MetricDelta]]:
        """Metric deltas from version ``a`` to ``b`` per evaluation set, with paired t-tests."""
        ea = self.evaluations(self.version(a).run_id)
        eb = self.evaluations(self.version(b).run_id)
        return {name: compare(ea[name], eb[name]) for name in sorted(set(ea) & set(eb))}


def activate_local(version: ModelVersion) -> bool:
    """Point the local IndexStore's CURRENT at a model version's index, when it is on disk."""
    from search.index import IndexStore

    root, name = version.tags.get(INDEX_ROOT_TAG), version.tags.get(INDEX_VERSION_TAG)
    if not root or not name or not (Path(root) / "versions" / name).is_dir():
        return False
    IndexStore(root).activate(name)
    return True


def resolve_champion(settings: Settings) -> Champion | None:
    """The index that serves: ``models:/docsearch-index@champion`` as a local folder.

    Returns None when there is no MLflow store or no champion yet (the caller falls back to
    the newest local index). The index folder the build wrote is used when it is still on
    disk; otherwise the model's artifacts are downloaded once under ``settings.models_dir``.
    """
    uri = settings.mlflow_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return None
    registry = Registry(uri)
    champion = registry.alias(CHAMPION)
    if champion is None:
        return None
    label = f"{registry.model_name} v{champion.version}"
    local = champion.tags.get(INDEX_PATH_TAG)
    if local and (Path(local) / "manifest.json").is_file():
        return Champion(label, Path(local))
    target = settings.models_dir / f"{registry.model_name}-v{champion.version}"
    artifacts = target / MODEL_DIR / "artifacts"  # pyfunc keeps the index folder's own name
    if not any(artifacts.glob("*/manifest.json")):
        target.mkdir(parents=True, exist_ok=True)
        registry.client.download_artifacts(champion.run_id, MODEL_DIR, str(target))
    return Champion(label, next(artifacts.glob("*/manifest.json")).parent)


def quality_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if is_quality_metric(k)}


def _requirements(names: Iterable[str] = _REQUIREMENTS) -> list[str]:
    out = []
    for name in names:
        try:
            out.append(f"{name}=={_metadata.version(name)}")
        except _metadata.PackageNotFoundError:
            out.append(name)
    return out
