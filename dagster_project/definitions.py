"""The one Definitions object: ``dagster dev -m dagster_project``."""

import os

import dagster as dg

from dagster_project.assets import ALL_ASSETS, SOURCE_CHECKS
from dagster_project.automation import (
    documents_sensor,
    evaluation_job,
    feedback_sensor,
    health_job,
    make_health_sensor,
    make_index_job,
    nightly_evaluation,
    retrain_job,
)
from dagster_project.resources import DocsearchSettings, make_resources
from dagster_project.source_automation import (
    freshness_job,
    sources_freshness,
    sources_job,
    sources_sensor,
)
from search.settings import LIBRARY_ENVIRONMENT, Settings

# The code location is where this process starts: the libraries' environment is set here,
# before any model library is imported (they are imported lazily, inside the assets).
for _name, _value in LIBRARY_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

settings = Settings.from_env()  # the environment (DOCSEARCH_ENV) this code location serves
docsearch = DocsearchSettings()  # every field from the product's settings (the environment)
index_job = make_index_job(settings)

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=SOURCE_CHECKS,
    jobs=[index_job, evaluation_job, retrain_job, sources_job, freshness_job, health_job],
    schedules=[nightly_evaluation, sources_freshness],
    sensors=[documents_sensor, feedback_sensor, sources_sensor, make_health_sensor(index_job)],
    # asset values between steps: <DOCSEARCH_HOME>/dagster/storage, or s3:// for workers
    # on other machines (DOCSEARCH_DAGSTER_STORAGE)
    resources=make_resources(
        docsearch,
        settings.dagster_storage or settings.dagster_home / "storage",
        settings.s3_endpoint_url,
    ),
)
