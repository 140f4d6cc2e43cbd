"""Evaluation: retrieval quality of the index version on every configured labeled query set."""

import time

import dagster as dg

from dagster_project.resources import DocsearchSettings, EncoderResource, MlflowTracker
from evaluation.beir import documents_location, load_labeled_set
from evaluation.latency import query_latency
from evaluation.runner import evaluate_index, index_name_for
from lifecycle.gate import decide
from search.index import IndexStore, SearchIndex, build_or_reuse
from search.progress import ProgressPrinter

GROUP = "evaluation"
MEETS_FLOOR = "meets_floor"
NO_REGRESSION = "no_regression"


@dg.asset(
    group_name=GROUP,
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
    embedding cache, so the figures measure this build's configuration.
    """
    settings = docsearch.settings()
    config = docsearch.index_config()
    model = encoder.load()
    started = time.perf_counter()
    index = SearchIndex.load(index_version["path"], model)
    evaluations, n_queries = {}, {}
    for name, root in docsearch.labeled_sets().items():
        context.log.info(f"evaluating on {name} ({root})")
        if documents_location(root).resolve() == settings.docs.resolve():
            labeled = load_labeled_set(root, with_documents=False)
            subject = index
        else:
            labeled = load_labeled_set(root)
            store = IndexStore(settings.index_root(index_name_for(root)))
            progress = ProgressPrinter(log=context.log.info, every=10.0)
            subject = build_or_reuse(
                labeled.documents, config, settings, store, model, progress
            ).index
        evaluations[name] = evaluate_index(subject, labeled)
        n_queries[name] = evaluations[name].n_queries
        context.log.info(f"{name}: {evaluations[name].mean}")
    first = next(iter(docsearch.labeled_sets().values()))
    latency = query_latency(index, load_labeled_set(first, with_documents=False).queries.values())
    metrics = {f"{s}/{m}": v for s, e in evaluations.items() for m, v in e.mean.items()}

    policy = docsearch.policy()
    primary = metrics.get(policy.primary)
    registry = mlflow.registry()
    champion = registry.alias("champion")
    champion_metrics = None
    if (
        champion is not None
        and champion.tags.get("docsearch.index_version") != index_version["version"]
    ):
        champion_metrics = registry.run_metrics(champion.run_id)
    verdict = decide(metrics, champion_metrics, policy)
    return dg.MaterializeResult(
        value={
            "evaluations": evaluations,
            "latency": latency,
            "index_version": index_version["version"],
        },
        metadata={
            **{k: float(v) for k, v in metrics.items()},
            **{f"{s}/queries": n for s, n in n_queries.items()},
            **{k: round(v, 2) for k, v in latency.items()},
            "index_version": index_version["version"],
            "seconds": round(time.perf_counter() - started, 2),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=MEETS_FLOOR,
                passed=primary is not None and primary >= policy.floor,
                metadata={
                    policy.primary: primary if primary is not None else -1.0,
                    "floor": policy.floor,
                },
            ),
            dg.AssetCheckResult(
                check_name=NO_REGRESSION,
                passed=not verdict.regressions,
                metadata={
                    "champion": f"v{champion.version}" if champion else "none",
                    "tolerance": policy.tolerance,
                    **{f"delta {k}": v for k, v in verdict.regressions.items()},
                },
            ),
        ],
    )
