"""The one Definitions object: ``dagster dev -m dagster_project``."""

import os

import dagster as dg

from dagster_project.assets import ALL_ASSETS
from dagster_project.automation import (
    documents_sensor,
    evaluation_job,
    feedback_sensor,
    index_job,
    nightly_evaluation,
    retrain_job,
)
from dagster_project.resources import DocsearchSettings, make_resources
from search.settings import Settings


def _env(name: str) -> dg.EnvVar | str:
    """Bind a field to an environment variable when it is set; empty means the default."""
    return dg.EnvVar(name) if os.environ.get(name) else ""


docsearch = DocsearchSettings(
    home=_env("DOCSEARCH_HOME"),
    docs=_env("DOCSEARCH_DOCS"),
    model=_env("DOCSEARCH_MODEL"),
    mlflow_uri=_env("MLFLOW_TRACKING_URI"),
    scifact=_env("DOCSEARCH_EVAL_SCIFACT"),
)

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[index_job, evaluation_job, retrain_job],
    schedules=[nightly_evaluation],
    sensors=[documents_sensor, feedback_sensor],
    # pickled asset values: <DOCSEARCH_HOME>/dagster/storage
    resources=make_resources(docsearch, Settings.from_env().home / "dagster" / "storage"),
)
