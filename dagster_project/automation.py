"""Jobs, the corpus and feedback sensors, and the nightly evaluation schedule (the sources'
sensor and freshness schedule: ``dagster_project.source_automation``)."""

import json

import dagster as dg

from dagster_project.assets.feedback import count_feedback, observation
from dagster_project.resources import DocsearchSettings
from lifecycle.deployment import celery_config
from search.settings import Settings
from search.sources import corpus_signature

EXECUTORS = ("in_process", "multiprocess", "celery")


def executor_for(settings: Settings) -> dg.ExecutorDefinition:
    """``index_job``'s executor (DOCSEARCH_EXECUTOR): every step in this process (the default:
    the encoder loaded once, a 2-core machine not swamped); the batches side by side in
    processes of this machine; or on Celery workers, on this machine or others."""
    if settings.executor == "in_process":
        return dg.in_process_executor
    if settings.executor == "multiprocess":
        # forked from a server that imported this code location once: a step costs a fork,
        # not a fresh interpreter importing torch, MLflow and Dagster (seconds each)
        return dg.multiprocess_executor.configured({"start_method": {"forkserver": {}}})
    if settings.executor == "celery":
        from dagster_celery import celery_executor

        return celery_executor.configured(celery_config(settings))
    raise ValueError(f"DOCSEARCH_EXECUTOR={settings.executor!r}; use one of {', '.join(EXECUTORS)}")


def make_index_job(settings: Settings):
    return dg.define_asset_job(
        "index_job",
        selection=dg.AssetSelection.groups("ingestion", "indexing", "evaluation", "registry"),
        executor_def=executor_for(settings),
        description="Documents to a registered, evaluated and (if the gate passes) promoted "
        "index; chunking and embedding run in batches.",
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
    job_name="index_job",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests an incremental index_job when a file in DOCSEARCH_DOCS is added, "
    "edited or removed, or a source's sync changed its mirror (compared with the corpus as the "
    "last source_documents saw it).",
)
def documents_sensor(context: dg.SensorEvaluationContext, docsearch: DocsearchSettings):
    settings = docsearch.settings()
    folder = settings.docs
    if not folder.is_dir():
        return dg.SkipReason(f"{folder} is not a folder")
    signature = corpus_signature(folder, settings.sources_dir)
    event = context.instance.get_latest_materialization_event(dg.AssetKey("source_documents"))
    seen = None
    if event is not None and event.asset_materialization is not None:
        entry = event.asset_materialization.metadata.get("corpus_signature")
        seen = entry.value if entry is not None else None
    if signature == seen:
        return dg.SkipReason(f"{folder} and the sources are unchanged since the last build")
    if signature == context.cursor:
        return dg.SkipReason("a run for this state of the folder was already requested")
    context.update_cursor(signature)
    return dg.RunRequest(
        run_key=f"docs-{signature}", tags={"docsearch/trigger": "documents_sensor"}
    )


retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.groups("training"),  # observes feedback_events first
    executor_def=dg.in_process_executor,
    description="Feedback to training pairs, a fine-tuned encoder, a challenger index and the "
    "gate's decision.",
)


@dg.sensor(
    job=retrain_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Observes the feedback store (feedback_events) and starts retrain_job when at "
    "least DOCSEARCH_RETRAIN_MIN_FEEDBACK (default 200) new clicks and votes on the served "
    "index's versions have arrived since the last request.",
)
def feedback_sensor(context: dg.SensorEvaluationContext, docsearch: DocsearchSettings):
    threshold = docsearch.settings().retrain_min_feedback
    total = count_feedback(docsearch)
    if total is None:
        return dg.SensorResult(skip_reason="no index has been built yet")
    cursor = _read_cursor(context.cursor)
    if cursor is None:  # a cursor written by another version of this sensor: count afresh
        return dg.SensorResult(
            skip_reason=f"feedback counter reset at {total} events", cursor=_cursor(total, total)
        )
    requested, observed = cursor
    new = total - requested
    events = [observation(total, new)] if total != observed else []
    if new < threshold:
        return dg.SensorResult(
            skip_reason=f"{new} new feedback events; retraining starts at {threshold}",
            asset_events=events,
            cursor=_cursor(requested, total),
        )
    request = dg.RunRequest(
        run_key=f"feedback-{total}",
        tags={"docsearch/trigger": "feedback_sensor", "docsearch/new_feedback": str(new)},
    )
    return dg.SensorResult(
        run_requests=[request], asset_events=events, cursor=_cursor(total, total)
    )


def _cursor(requested: int, observed: int) -> str:
    return json.dumps({"requested": requested, "observed": observed})


def _read_cursor(cursor: str | None) -> tuple[int, int] | None:
    """(events at the last run request, events at the last observation); a plain count (the
    previous release's cursor) is both; None for anything else."""
    if not cursor:
        return 0, -1
    try:
        value = json.loads(cursor)
    except ValueError:
        return None
    if isinstance(value, int):
        return value, value
    if isinstance(value, dict) and {"requested", "observed"} <= set(value):
        return int(value["requested"]), int(value["observed"])
    return None


health_job = dg.define_asset_job(
    "health_job",
    selection=dg.AssetSelection.groups("monitoring"),
    executor_def=dg.in_process_executor,
    description="Check what serves for drift and freshness, and judge the online experiments.",
)

# a failed check's action: the job that does it (an alert is the failed check itself)
ACTION_JOBS = {"re-index": "index_job", "retrain": "retrain_job", "evaluate": "evaluation_job"}


def make_health_sensor(index_job) -> dg.SensorDefinition:
    """``health_sensor``, targeting ``health_job`` and the jobs its checks' actions run."""

    @dg.sensor(
        jobs=[health_job, index_job, retrain_job, evaluation_job],
        minimum_interval_seconds=900,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Every 15 minutes: health_job (the drift and freshness checks, the online "
        "experiments judged); and for each failing check with an action, that action's job "
        "(re-index: index_job, retrain: retrain_job, evaluate: evaluation_job).",
    )
    def health_sensor(context: dg.SensorEvaluationContext, docsearch: DocsearchSettings):
        from lifecycle.health import serving_health

        stamp = int(context.cursor or 0) + 1
        requests = [dg.RunRequest(run_key=f"health-{stamp}", job_name="health_job")]
        for check in serving_health(docsearch.settings()):
            job = ACTION_JOBS.get(check.action)
            if not check.passed and job is not None:
                requests.append(
                    dg.RunRequest(
                        run_key=f"{check.name}-{stamp}",
                        job_name=job,
                        tags={"docsearch/trigger": f"health_sensor: {check.name}"},
                    )
                )
        return dg.SensorResult(run_requests=requests, cursor=str(stamp))

    return health_sensor
