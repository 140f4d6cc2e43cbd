"""Settings of environments and the deployment: profiles, the registry and its gate, Dagster's
instance and executor, the MLflow server, serving processes and the versions a store keeps."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, field_validator

from search.settings.base import DEFAULT_PROFILE, PROFILES_FILE, absolute


class DeploymentSettings(BaseModel):
    env: str = Field(
        DEFAULT_PROFILE,
        description="the environment (profile): its table `[profiles.NAME]` in the profiles "
        "file supplies every setting the environment does not set",
    )
    config_file: Path = Field(
        PROFILES_FILE,
        validation_alias=AliasChoices("DOCSEARCH_CONFIG", "config_file"),
        description="the profiles file (TOML, one `[profiles.NAME]` table each)",
    )
    registry_model: str = Field(
        "",
        description="registered model of this environment's index versions and champion "
        "(empty: `docsearch-index` in dev, `docsearch-index-ENV` elsewhere)",
    )
    gate_floor: float | None = Field(
        None, description="minimum sample nDCG@10 a version needs to serve (empty: the gate's 0.5)"
    )
    min_dense_recall: float = Field(
        0.95,
        ge=0,
        le=1,
        description="minimum recall@10 of a version's approximate dense index against exact "
        "search, measured on its own chunks when built, for it to serve (exact search: 1.0)",
    )
    gate_tolerance: float | None = Field(
        None,
        description="largest drop of a quality metric against the champion (empty: the gate's 0.01)",
    )
    dagster_database_url: str = Field(
        "",
        description="PostgreSQL URL of Dagster's runs, events and schedules (empty: SQLite "
        "under `$DOCSEARCH_HOME/dagster`)",
    )
    dagster_storage: str = Field(
        "",
        description="where Dagster keeps asset values between steps: `s3://BUCKET/PREFIX` for "
        "workers on other machines (empty: `$DOCSEARCH_HOME/dagster/storage`)",
    )
    executor: str = Field(
        "in_process",
        description="how `index_job` runs its steps: `in_process`, `multiprocess` (batches "
        "side by side) or `celery` (batches on Celery workers)",
    )
    celery_broker: str = Field(
        "pyamqp://guest:guest@127.0.0.1:5672//",
        description="broker the Celery executor and its workers share (RabbitMQ or Redis URL)",
    )
    batch_size: int = Field(
        64, description="documents per chunking batch and chunks per embedding batch in Dagster"
    )
    mlflow_backend_uri: str = Field(
        "",
        description="the MLflow server's own store, e.g. `postgresql://...` (empty: the "
        "tracking URI when it is a database, else SQLite under the home)",
    )
    artifact_store: str = Field(
        "",
        description="where the MLflow server keeps artifacts: `s3://BUCKET/PREFIX` (empty: "
        "`$DOCSEARCH_HOME/mlflow/artifacts`)",
    )
    s3_endpoint_url: str = Field(
        "",
        description="S3-compatible endpoint (MinIO, ...) of the artifact store and Dagster "
        "storage (empty: AWS); credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`",
    )
    code_server_port: int = Field(4000, description="port of the Dagster code server (gRPC)")
    dagster_ui_url: str = Field(
        "", description="Dagster UI address for links (empty: `http://HOST:DAGSTER_PORT`)"
    )
    mlflow_ui_url: str = Field(
        "",
        description="MLflow UI address for links (empty: the tracking URI when it is http, "
        "else `http://HOST:MLFLOW_PORT`)",
    )
    serve_poll_seconds: float = Field(
        30.0, description="how often a serving process looks whether the champion alias moved"
    )
    keep_versions: int = Field(
        5,
        ge=1,
        description="index versions a store keeps when a build or a serving process starts: "
        "older ones are removed, never the current one, the one activated before it, or one a "
        "registry alias (champion, challenger) or the previous champion points at; also the "
        "fetched champions a serving home keeps (never the one serving or the one before it)",
    )
    unactivated_retention_hours: float = Field(
        24.0,
        ge=0,
        description="a version built but never activated is removed on the next start after "
        "this many hours (staging folders of interrupted writes are removed at once)",
    )

    @field_validator("config_file", mode="after")
    @classmethod
    def _absolute_deployment_paths(cls, path: Path) -> Path:
        return absolute(path)
