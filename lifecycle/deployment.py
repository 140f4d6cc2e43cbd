"""The production layout: each process of a deployment, its command, what it needs, and the
configuration files made from the settings (Dagster's instance, its workspace, the Celery
executor's). ``scripts/serve.py`` starts these processes; the README's "Production layout"
lists the same commands. Nothing here starts anything or reads the environment: the caller
merges ``environment(settings)`` into the process environment it passes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from search.settings import PROJECT_ROOT, Settings

LOCATION = "docsearch"  # the Dagster code location's name
DAGSTER_YAML = "dagster.yaml"
WORKSPACE_YAML = "workspace.yaml"
CELERY_YAML = "celery.yaml"
DEFAULT_QUEUE = "dagster"  # dagster-celery's own queue: batches any worker may take
BUILDER_QUEUE = "builder"  # steps that read or write the builder's home and documents folder
# One run at a time: index_job and retrain_job write the same index store and registry.
MAX_CONCURRENT_RUNS = 1


@dataclass(frozen=True)
class Process:
    """One long-running process of a deployment: how to start it and how to know it is up."""

    name: str
    command: list[str]
    needs: str  # what the machine running it must have (one line, for the README and logs)
    health: str = ""  # an URL that answers 200 once it serves; "" when it serves no HTTP
    env: dict[str, str] = field(default_factory=dict)


def environment(settings: Settings) -> dict[str, str]:
    """Variables every process of this environment gets (beside the caller's own)."""
    env = {
        "DOCSEARCH_ENV": settings.env,
        "DOCSEARCH_CONFIG": str(settings.config_file),
        "DOCSEARCH_HOME": str(settings.home),
        "DAGSTER_HOME": str(settings.dagster_home),
        "MLFLOW_TRACKING_URI": settings.mlflow_uri,
    }
    if settings.s3_endpoint_url:  # read by MLflow's and Dagster's S3 clients themselves
        env["MLFLOW_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
    return env


def dagster_yaml(settings: Settings) -> str:
    """Dagster's instance: runs, events and schedules in PostgreSQL when
    ``dagster_database_url`` is set (dagster-postgres), else SQLite under DAGSTER_HOME; runs
    queued for the daemon, one at a time."""
    lines = [f"# Made by docsearch from the settings of environment {settings.env!r}."]
    if settings.dagster_database_url:
        lines += [
            "storage:",
            "  postgres:",
            f"    postgres_url: {_q(_psycopg2(settings.dagster_database_url))}",
        ]
    lines += [
        "run_coordinator:",
        "  module: dagster.core.run_coordinator",
        "  class: QueuedRunCoordinator",
        "  config:",
        f"    max_concurrent_runs: {MAX_CONCURRENT_RUNS}",
        "telemetry:",
        "  enabled: false",
    ]
    return "\n".join(lines) + "\n"


def workspace_yaml(settings: Settings) -> str:
    """Where the webserver and the daemon find the code: the code server's gRPC port."""
    return (
        "load_from:\n  - grpc_server:\n"
        f"      host: {_q(settings.host)}\n      port: {settings.code_server_port}\n"
        f"      location_name: {_q(LOCATION)}\n"
    )


def celery_config(settings: Settings) -> dict:
    """The Celery executor's config; workers are started with the same (``celery.yaml``)."""
    broker = settings.celery_broker
    backend = broker if broker.startswith(("redis://", "rediss://")) else "rpc://"
    return {"broker": broker, "backend": backend}


def celery_yaml(settings: Settings) -> str:
    return "execution:\n  config:\n" + "".join(
        f"    {k}: {_q(v)}\n" for k, v in celery_config(settings).items()
    )


def write_instance(settings: Settings) -> Path:
    """Write dagster.yaml, workspace.yaml and celery.yaml into DAGSTER_HOME (made from the
    settings each time, so changing a setting changes the instance); returns DAGSTER_HOME."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    for name, text in (
        (DAGSTER_YAML, dagster_yaml(settings)),
        (WORKSPACE_YAML, workspace_yaml(settings)),
        (CELERY_YAML, celery_yaml(settings)),
    ):
        (home / name).write_text(text)
    return home


def processes(settings: Settings, bin_dir: Path) -> dict[str, Process]:
    """Every process of the production layout, by the name ``scripts/serve.py`` takes."""
    host, dagster_home, b = settings.host, settings.dagster_home, Path(bin_dir)
    workspace = str(dagster_home / WORKSPACE_YAML)
    return {
        "mlflow": mlflow_server(settings, b),
        "code-server": Process(
            "Dagster code server",
            [str(b / "dagster"), "code-server", "start", "-m", "dagster_project"]
            + ["-h", host, "-p", str(settings.code_server_port), "--location-name", LOCATION],
            "the code and its settings; the documents folder; the builder's home",
        ),
        "webserver": Process(
            "Dagster UI",
            [str(b / "dagster-webserver"), "-w", workspace, "-h", host]
            + ["-p", str(settings.dagster_port)],
            "Dagster's instance (dagster.yaml) and the code server's address",
            f"http://{host}:{settings.dagster_port}/server_info",
        ),
        "daemon": Process(
            "Dagster daemon",
            [str(b / "dagster-daemon"), "run", "-w", workspace],
            "Dagster's instance; runs the sensors, the schedule and the queued runs",
        ),
        "worker": celery_worker(settings, b, "worker", [DEFAULT_QUEUE]),
        "builder-worker": celery_worker(settings, b, "builder", [DEFAULT_QUEUE, BUILDER_QUEUE]),
        "app": search_app(settings, b),
        "api": rest_api(settings, b),
    }


def mlflow_server(settings: Settings, bin_dir: Path) -> Process:
    """The tracking server: its store (SQLite or PostgreSQL) and the artifact store behind it
    (a folder or ``s3://``), served to clients over HTTP (``--serve-artifacts``), so builders
    and serving machines need no credentials of the bucket."""
    artifacts = settings.artifact_store or settings.mlflow_artifacts.resolve().as_uri()
    backend = settings.mlflow_backend_uri or settings.mlflow_uri
    if backend.startswith(("http://", "https://")):  # the clients' address of this server
        backend = f"sqlite:///{settings.home / 'mlflow' / 'mlflow.db'}"
    command = [str(Path(bin_dir) / "mlflow"), "server", "--backend-store-uri", backend]
    command += ["--artifacts-destination", artifacts, "--serve-artifacts"]
    command += ["--host", settings.host, "--port", str(settings.mlflow_port), "--workers", "1"]
    return Process(
        "MLflow server",
        command,
        "the tracking database and the artifact store's credentials",
        f"http://{settings.host}:{settings.mlflow_port}/health",
    )


def celery_worker(settings: Settings, bin_dir: Path, name: str, queues: list[str]) -> Process:
    """A Celery worker of ``index_job``'s steps: any machine with the code takes the default
    queue (the chunking and embedding batches); the builder also takes its own queue."""
    command = [str(Path(bin_dir) / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app"]
    command += ["-y", str(settings.dagster_home / CELERY_YAML), "-n", name]
    for queue in queues:
        command += ["-q", queue]
    return Process(
        f"Celery worker ({', '.join(queues)})",
        command + ["--", "--concurrency", "1"],
        "the code, the broker, Dagster's instance and storage (s3:// for other machines)",
    )


def search_app(settings: Settings, bin_dir: Path) -> Process:
    command = [str(Path(bin_dir) / "streamlit"), "run", str(PROJECT_ROOT / "app/streamlit_app.py")]
    command += ["--server.address", settings.host, "--server.port", str(settings.app_port)]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if settings.auth_secrets.is_file():  # the [auth] section: sign-in through OpenID Connect
        command += ["--secrets.files", str(settings.auth_secrets)]
    return Process(
        "Search app",
        command,
        "the tracking server (it fetches and verifies the champion) and the feedback store",
        f"http://{settings.host}:{settings.app_port}/_stcore/health",
    )


def rest_api(settings: Settings, bin_dir: Path) -> Process:
    command = [str(Path(bin_dir) / "docsearch"), "api", "--host", settings.host]
    command += ["--port", str(settings.api_port)]
    return Process(
        "REST API",
        command,
        "the tracking server (it fetches and verifies the champion), the product's store",
        f"http://{settings.host}:{settings.api_port}/healthz",
    )


def _psycopg2(url: str) -> str:
    """dagster-postgres speaks psycopg2's parameter style (``NOTIFY channel, %s``), and
    SQLAlchemy 2.1 gives a bare ``postgresql://`` to psycopg 3: name the driver."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url.removeprefix(scheme)
    return url


def _q(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML string, quotes and all
