"""Sources: one partition per connected store (dynamic partitions named after the sources in
the catalog), each materialization a sync of that store into its mirror, and the freshness
check that fails when a source has not been in step with its store within its interval."""

import os

import dagster as dg

from dagster_project.assets.batches import BUILDER
from dagster_project.resources import DocsearchSettings
from search.progress import ProgressPrinter

GROUP = "sources"
SOURCE_PARTITIONS = dg.DynamicPartitionsDefinition(name="sources")
SOURCES_FRESH = "sources_fresh"  # check: every source in step within its interval


@dg.asset(
    group_name=GROUP,
    partitions_def=SOURCE_PARTITIONS,
    op_tags=BUILDER,  # writes the builder's mirrors
    description="A connected store's mirror (one partition per source): what changed since the "
    "last sync fetched and parsed, what is gone forgotten. A store that fails part-way fails "
    "the run and keeps what was fetched; the next sync resumes. documents_sensor then builds "
    "the index over the corpus.",
)
def source_mirror(context: dg.AssetExecutionContext, docsearch: DocsearchSettings):
    from lifecycle.sources import sync_one

    name = context.partition_key
    progress = ProgressPrinter(log=context.log.info, every=5.0)
    # the run's environment holds the variables sources name their secrets in
    report = sync_one(docsearch.settings(), name, os.environ, progress)
    shown = report.as_dict()
    metadata = {k: shown[k] for k in ("added", "updated", "deleted", "unchanged", "failed")}
    metadata["seconds"] = shown["seconds"]
    metadata["failures"] = dg.MetadataValue.md(
        "\n".join(f"- {f.path}: {f.reason}" for f in report.failed[:50]) or "none"
    )
    if report.error:
        raise dg.Failure(description=f"source {name}: {report.error}", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


@dg.asset_check(
    asset=source_mirror,
    name=SOURCES_FRESH,
    description="Fails when a source has not been in step with its store (a complete sync, or "
    "a look that found nothing new) within its interval (option interval, else "
    "DOCSEARCH_SOURCE_INTERVAL_SECONDS).",
)
def sources_fresh(docsearch: DocsearchSettings) -> dg.AssetCheckResult:
    from lifecycle.sources import list_sources, stale_sources

    settings = docsearch.settings()
    stale = stale_sources(settings)
    rows = "".join(
        f"| {s['source']} | {s['in_step_at'] or 'never'} | {s['interval_seconds']:g} s | "
        f"{s['last_error'] or ''} |\n"
        for s in stale
    )
    table = "| source | in step at | interval | last error |\n| --- | --- | --- | --- |\n"
    return dg.AssetCheckResult(
        passed=not stale,
        metadata={
            "sources": len(list_sources(settings)),
            "stale": len(stale),
            "stale_sources": dg.MetadataValue.md(table + rows if stale else "none"),
        },
    )
