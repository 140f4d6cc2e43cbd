"""Registry: the build as an MLflow run, its registered model version, and the alias decision."""

import functools
import subprocess
from importlib import metadata
from pathlib import Path

import dagster as dg

from dagster_project.assets.batches import BUILDER
from dagster_project.resources import DocsearchSettings, MlflowTracker
from lifecycle.lineage import DAGSTER_URL_TAG, dagster_url
from lifecycle.registry.names import POLICY_HASH_TAG, REASON_TAG

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


@dg.asset(group_name=GROUP, op_tags=BUILDER)
def mlflow_run(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    mlflow: MlflowTracker,
    index_version: dict,
    retrieval_evaluation: dict,
):
    """One MLflow run per index build: params, metrics, tags and artifacts (manifest, config,
    per-query results). A reused index version keeps the run it already has."""
    registry = mlflow.registry()
    run_id, reused = registry.log_version(
        index_version["path"],
        retrieval_evaluation["evaluations"],
        retrieval_evaluation["latency"],
        tags={
            "dagster.run_id": context.run_id,
            # the address in this environment's Dagster UI, for lineage read elsewhere
            DAGSTER_URL_TAG: dagster_url(docsearch.settings(), context.run_id),
            "code_version": code_version(),
        },
        reused=index_version["reused"],
    )
    run = registry.client.get_run(run_id)
    reason = run.data.tags.get(REASON_TAG, "")
    context.log.info(f"MLflow run {run_id} ({'existing' if reused else 'new'}): {reason}")
    return dg.MaterializeResult(
        value=run_id,
        metadata={
            "run_id": run_id,
            "reused": reused,
            "tracking_uri": registry.tracking_uri,
            "reason": reason,  # why the version exists (documents changed, policy changed ...)
            "policy_hash": run.data.tags.get(POLICY_HASH_TAG, ""),
            **{k: float(v) for k, v in sorted(run.data.metrics.items())},
        },
    )


@dg.asset(group_name=GROUP, op_tags=BUILDER)
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


@dg.asset(group_name=GROUP, op_tags=BUILDER)
def champion_alias(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    mlflow: MlflowTracker,
    registered_version: str,
):
    """The gate: the version becomes ``champion`` (and the local CURRENT) when it reaches the
    floor without regressing against the champion; otherwise it is the ``challenger`` and the
    old champion keeps serving."""
    settled = mlflow.registry().settle(registered_version, docsearch.policy())
    decision = settled.decision
    (context.log.info if settled.promoted else context.log.warning)(
        f"gate: {settled.outcome} v{registered_version}: {settled.reason}"
    )
    numbers = {}
    if decision is not None:
        numbers = {
            decision.primary: decision.value if decision.value is not None else -1.0,
            "floor": decision.floor,
            "tolerance": decision.tolerance,
            **{f"regression {k}": v for k, v in decision.regressions.items()},
        }
    return dg.MaterializeResult(
        value={"decision": settled.outcome, "champion": settled.champion},
        metadata={
            "decision": settled.outcome,
            "reason": settled.reason,
            "candidate": f"v{registered_version}",
            "champion_before": _label(settled.champion_before),
            "champion": _label(settled.champion),
            "challenger": _label(settled.challenger),
            **numbers,
        },
    )


def _label(version: str | None) -> str:
    return f"v{version}" if version else "none"
