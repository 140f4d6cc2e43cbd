"""Jobs, the documents-folder and feedback sensors, and the nightly evaluation schedule."""

import dagster as dg

from dagster_project.resources import DocsearchSettings
from lifecycle.feedback import FeedbackStore
from search.index import folder_signature

# Every step in one process: the encoder is loaded once, and 2-core machines are not swamped.
index_job = dg.define_asset_job(
    "index_job",
    selection=dg.AssetSelection.groups("ingestion", "indexing", "evaluation", "registry"),
    executor_def=dg.in_process_executor,
    description="Documents to a registered, evaluated and (if the gate passes) promoted index.",
)

evaluation_job = dg.define_asset_job(
    "evaluation_job",
    selection=dg.AssetSelection.groups("evaluation"),
    executor_def=dg.in_process_executor,
    description="Re-evaluate the newest index version on every labeled set.",
)

nightly_evaluation = dg.ScheduleDefinition(
    name="nightly_evaluation",
    job=evaluation_job,
    cron_schedule="0 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Evaluate the newest index version every night at 03:00.",
)


@dg.sensor(
    job=index_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests an incremental index_job when a file in DOCSEARCH_DOCS is added, "
    "edited or removed (compared with the folder as the last source_documents saw it).",
)
def documents_sensor(context: dg.SensorEvaluationContext, docsearch: DocsearchSettings):
    folder = docsearch.settings().docs
    if not folder.is_dir():
        return dg.SkipReason(f"{folder} is not a folder")
    signature = folder_signature(folder)
    event = context.instance.get_latest_materialization_event(dg.AssetKey("source_documents"))
    seen = None
    if event is not None and event.asset_materialization is not None:
        entry = event.asset_materialization.metadata.get("folder_signature")
        seen = entry.value if entry is not None else None
    if signature == seen:
        return dg.SkipReason(f"{folder} is unchanged since the last build")
    if signature == context.cursor:
        return dg.SkipReason("a run for this state of the folder was already requested")
    context.update_cursor(signature)
    return dg.RunRequest(
        run_key=f"docs-{signature}", tags={"docsearch/trigger": "documents_sensor"}
    )


retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.groups("training"),
    executor_def=dg.in_process_executor,
    description="Feedback to training pairs, a fine-tuned encoder, a challenger index and the "
    "gate's decision.",
)


@dg.sensor(
    job=retrain_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts retrain_job when at least DOCSEARCH_RETRAIN_MIN_FEEDBACK (default 200) "
    "new clicks and votes on the served index's versions have arrived since the last request.",
)
def feedback_sensor(context: dg.SensorEvaluationContext, docsearch: DocsearchSettings):
    threshold = docsearch.settings().retrain_min_feedback
    versions = docsearch.store().versions()
    if not versions:
        return dg.SkipReason("no index has been built yet")
    store = FeedbackStore(docsearch.settings().feedback_url)
    try:
        total = store.count_events(versions)
    finally:
        store.close()
    try:
        seen = int(context.cursor or 0)
    except ValueError:  # a cursor written by another version of this sensor: count afresh
        context.update_cursor(str(total))
        return dg.SkipReason(f"feedback counter reset at {total} events")
    new = total - seen
    if new < threshold:
        return dg.SkipReason(f"{new} new feedback events; retraining starts at {threshold}")
    context.update_cursor(str(total))
    return dg.RunRequest(
        run_key=f"feedback-{total}",
        tags={"docsearch/trigger": "feedback_sensor", "docsearch/new_feedback": str(new)},
    )
