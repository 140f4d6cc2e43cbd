"""Evaluation: retrieval quality of the index version on every configured labeled query set."""

import time

import dagster as dg

from dagster_project.assets.batches import BUILDER
from dagster_project.resources import DocsearchSettings, EncoderResource, MlflowTracker
from evaluation import evaluate_version, flat_metrics
from search.index import SearchIndex
from search.progress import ProgressPrinter

GROUP = "evaluation"
MEETS_FLOOR = "meets_floor"
NO_REGRESSION = "no_regression"


@dg.asset(
    group_name=GROUP,
    op_tags=BUILDER,
    check_specs=[
        dg.AssetCheckSpec(
            MEETS_FLOOR,
            asset="retrieval_evaluation",
            description="The primary metric (sample nDCG@10) is at or above the configured floor.",
        ),
        dg.AssetCheckSpec(
            NO_REGRESSION,
            asset="retrieval_evaluation",
            description="No quality metric drops more than the tolerance below the champion's.",
        ),
    ],
)
def retrieval_evaluation(
    context: dg.AssetExecutionContext,
    docsearch: DocsearchSettings,
    encoder: EncoderResource,
    mlflow: MlflowTracker,
    index_version: dict,
):
    """nDCG@10, Recall@100 and MRR@10 per labeled set, and query latency p50/p95.

    A set whose documents are the indexed folder is run against the index version itself; any
    other (SciFact) gets its own index built with the same config and encoder, through the
    embedding cache, so the figures measure this build's configuration. The checks report the
    gate's floor and regressions; whether the version is promoted is ``champion_alias``'s call.
    """
    started = time.perf_counter()
    result = evaluate_version(
        SearchIndex.load(index_version["path"], encoder.load()),
        docsearch.labeled_sets(),
        docsearch.settings(),
        docsearch.index_config(),
        progress=ProgressPrinter(log=context.log.info, every=10.0),
        log=context.log.info,
    )
    metrics = flat_metrics(result.evaluations)
    gate, champion = mlflow.registry().gate_checks(
        metrics, index_version["version"], docsearch.policy()
    )
    return dg.MaterializeResult(
        value={
            "evaluations": result.evaluations,
            "latency": result.latency,
            "index_version": index_version["version"],
        },
        metadata={
            **metrics,
            **{f"{s}/queries": e.n_queries for s, e in result.evaluations.items()},
            **{k: round(v, 2) for k, v in result.latency.items()},
            "index_version": index_version["version"],
            "seconds": round(time.perf_counter() - started, 2),
        },
        check_results=_check_results(gate, champion),
    )


def _check_results(gate, champion) -> list[dg.AssetCheckResult]:
    """The gate's two checks, as Dagster shows them beside the asset."""
    return [
        dg.AssetCheckResult(
            check_name=MEETS_FLOOR,
            passed=gate.meets_floor,
            metadata={
                gate.primary: gate.value if gate.value is not None else -1.0,
                "floor": gate.floor,
            },
        ),
        dg.AssetCheckResult(
            check_name=NO_REGRESSION,
            passed=gate.no_regression,
            metadata={
                "champion": f"v{champion.version}" if champion else "none",
                "tolerance": gate.tolerance,
                **{f"delta {k}": v for k, v in gate.regressions.items()},
            },
        ),
    ]
