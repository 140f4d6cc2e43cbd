"""Registry: the build as an MLflow run, its registered model version, and the alias decision."""

import functools
import subprocess
from importlib import metadata
from pathlib import Path

import dagster as dg

from dagster_project.resources import DocsearchSettings, MlflowTracker
from lifecycle.registry import CHALLENGER, CHAMPION
from search.index import folder_bytes, read_manifest

GROUP = "registry"


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The git commit of this checkout, or the package version outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except OSError:
        pass
    return f"docsearch=={metadata.version('docsearch')}"


@dg.asset(group_name=GROUP)
def mlflow_run(
    context: dg.AssetExecutionContext,
    mlflow: MlflowTracker,
    index_version: dict,
    retrieval_evaluation: dict,
):
    """One MLflow run per index build: params, metrics, tags and artifacts (manifest, config,
    per-query results). A reused index version keeps the run it already has."""
    registry = mlflow.registry()
    path = Path(index_version["path"])
    run_id = registry.find_build(index_version["version"]) if index_version["reused"] else None
    reused = run_id is not None
    if run_id is None:
        manifest = read_manifest(path)
        build = manifest.get("build", {})
        metrics = {
            "build_seconds": build.get("seconds", 0.0),
            "encode_seconds": build.get("encode_seconds", 0.0),
            "documents": manifest["counts"]["documents"],
            "chunks": manifest["counts"]["chunks"],
            "chunks_embedded": build.get("chunks_embedded", 0),
            "chunks_reused": build.get("chunks_reused", 0),
            "index_bytes": folder_bytes(path),
            **retrieval_evaluation["latency"],
        }
        run_id = registry.log_build(
            path,
            manifest,
            retrieval_evaluation["evaluations"],
            metrics,
            tags={"dagster.run_id": context.run_id, "code_version": code_version()},
        )
    run_metrics = registry.run_metrics(run_id)
    context.log.info(f"MLflow run {run_id} ({'existing' if reused else 'new'})")
    return dg.MaterializeResult(
        value=run_id,
        metadata={
            "run_id": run_id,
            "reused": reused,
            "tracking_uri": registry.tracking_uri,
            **{k: float(v) for k, v in sorted(run_metrics.items())},
        },
    )


@dg.asset(group_name=GROUP)
def registered_version(
    context: dg.AssetExecutionContext,
    mlflow: MlflowTracker,
    mlflow_run: str,
    index_version: dict,
):
    """The index directory as a pyfunc model version of ``docsearch-index``."""
    registry = mlflow.registry()
    version = registry.version_for_run(mlflow_run)
    reused = version is not None
    if version is None:
        version = registry.register(mlflow_run, index_version["path"])
    context.log.info(f"{registry.model_name} version {version.version}")
    return dg.MaterializeResult(
        value=str(version.version),
        metadata={
            "model": registry.model_name,
            "version": str(version.version),
            "model_uri": f"models:/{registry.model_name}/{version.version}",
            "reused": reused,
        },
    )


@dg.asset(group_name=GROUP)
def champion_alias(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    mlflow: MlflowTracker,
    registered_version: str,
):
    """The gate: the version becomes ``champion`` (and the local CURRENT) when it reaches the
    floor without regressing against the champion; otherwise it is the ``challenger`` and the
    old champion keeps serving."""
    registry = mlflow.registry()
    before = registry.alias(CHAMPION)
    if before is not None and str(before.version) == registered_version:
        decision_text, reason, promoted = "unchanged", "this version is already the champion", True
        numbers = {}
    else:
        decision, promoted = registry.promote(registered_version, docsearch.policy())
        decision_text, reason = ("promote" if promoted else "reject"), decision.reason
        numbers = {
            decision.primary: decision.value if decision.value is not None else -1.0,
            "floor": decision.floor,
            "tolerance": decision.tolerance,
            **{f"regression {k}": v for k, v in decision.regressions.items()},
        }
    after = registry.alias(CHAMPION)
    challenger = registry.alias(CHALLENGER)
    log = context.log.info if promoted else context.log.warning
    log(f"gate: {decision_text} v{registered_version}: {reason}")
    return dg.MaterializeResult(
        value={"decision": decision_text, "champion": str(after.version) if after else None},
        metadata={
            "decision": decision_text,
            "reason": reason,
            "candidate": f"v{registered_version}",
            "champion_before": f"v{before.version}" if before else "none",
            "champion": f"v{after.version}" if after else "none",
            "challenger": f"v{challenger.version}" if challenger else "none",
            **numbers,
        },
    )
