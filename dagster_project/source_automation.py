"""The sources' job, the sensor that syncs a source when its store changed, and the schedule
of the freshness check.

``sources_sensor`` keeps one dynamic partition per source in the catalog, and for each source
whose interval has passed lists its store (``changed_since_sync``): nothing new records the
source as in step; a listing that differs from the last complete sync requests a sync of
that partition (the run key is the listing's digest, so one change is synced once). The
mirror's change then moves the corpus signature, and ``documents_sensor`` builds the index.
"""

import os
import time

import dagster as dg

from dagster_project.assets.sources import SOURCE_PARTITIONS, source_mirror
from dagster_project.resources import DocsearchSettings

LOOK_BUDGET_SECONDS = 40.0  # of one tick for looking at stores (the tick times out at 60 s)

sources_job = dg.define_asset_job(
    "sources_job",
    selection=dg.AssetSelection.assets(source_mirror),
    executor_def=dg.in_process_executor,
    description="Sync one source (a partition) into its mirror.",
)

freshness_job = dg.define_asset_job(
    "sources_freshness_job",
    selection=dg.AssetSelection.checks_for_assets(source_mirror),
    executor_def=dg.in_process_executor,
    description="Check that every source was in step with its store within its interval.",
)

sources_freshness = dg.ScheduleDefinition(
    name="sources_freshness",
    job=freshness_job,
    cron_schedule="*/15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Run the sources' freshness check every 15 minutes.",
)


@dg.sensor(
    job=sources_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Keeps one partition per source and requests a sync of a source whose store "
    "changed since its last sync (looked at once its interval has passed).",
)
def sources_sensor(context: dg.SensorEvaluationContext, docsearch: DocsearchSettings):
    from lifecycle.sources import changed_since_sync, due_sources, list_sources
    from search.sources import SourceError, SourceUnavailable

    settings = docsearch.settings()
    names = {s.name for s in list_sources(settings)}
    existing = set(context.instance.get_dynamic_partitions(SOURCE_PARTITIONS.name))
    partitions = []
    if names - existing:
        partitions.append(SOURCE_PARTITIONS.build_add_request(sorted(names - existing)))
    if existing - names:
        partitions.append(SOURCE_PARTITIONS.build_delete_request(sorted(existing - names)))
    runs, notes = [], []
    deadline = time.monotonic() + LOOK_BUDGET_SECONDS
    for source in due_sources(settings):
        if time.monotonic() > deadline:
            notes.append(f"{source.name}: looked at on the next tick")
            continue
        try:
            digest = changed_since_sync(settings, source.name, os.environ)
        except (SourceUnavailable, SourceError) as exc:
            notes.append(f"{source.name}: {exc}")
            continue
        if digest is None:
            notes.append(f"{source.name}: unchanged")
        else:
            runs.append(
                dg.RunRequest(
                    partition_key=source.name,
                    run_key=f"{source.name}-{digest}",
                    tags={"docsearch/trigger": "sources_sensor"},
                )
            )
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=partitions,
        skip_reason=None if runs else "; ".join(notes) or "no source is due",
    )
