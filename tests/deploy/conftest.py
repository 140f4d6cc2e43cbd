"""The engines a deployment runs on, for real: PostgreSQL (a database per test session, dropped
after), an S3 endpoint (moto's server on a free loopback port), MLflow tracking servers.

Every test runs the embedded path (SQLite, local folders); where a service is absent the
service path is replaced by it and the terminal summary says what was not tested."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_for_http

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
S3_KEYS["AWS_DEFAULT_REGION"] = "us-east-1"
NOT_TESTED: list[str] = []


def not_tested(line: str) -> None:
    """Say, in the test output and the summary, which service path did not run."""
    if line not in NOT_TESTED:
        NOT_TESTED.append(line)
    print(f"NOT TESTED: {line}")


def pytest_terminal_summary(terminalreporter):
    for line in NOT_TESTED:
        terminalreporter.write_line(f"NOT TESTED (service absent, embedded path ran): {line}")


def postgres_reachable() -> bool:
    try:
        import psycopg2

        psycopg2.connect(PG_ADMIN, connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001 - absent, refused, no driver: all mean "not here"
        return False


def _admin(statement: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def postgres_database():
    """A factory of fresh PostgreSQL databases (URLs), all dropped at the end of the session;
    None when PostgreSQL is not reachable."""
    if not postgres_reachable():
        yield None
        return
    made: list[str] = []

    def make(purpose: str) -> str:
        name = f"docsearch_{purpose}_{uuid.uuid4().hex[:8]}"
        _admin(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"postgresql://postgres@127.0.0.1:5432/{name}"

    yield make
    for name in made:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class S3:
    endpoint: str
    bucket: str

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, **_boto_keys())

    def keys(self, prefix: str = "") -> list[str]:
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


def _boto_keys() -> dict:
    return {
        "aws_access_key_id": S3_KEYS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_KEYS["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_KEYS["AWS_DEFAULT_REGION"],
    }


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """moto's S3 server on a free loopback port with one bucket; stopped after the session."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/moto-api/", timeout=60, proc=proc)
        found = S3(f"http://127.0.0.1:{port}", "docsearch")
        found.client().create_bucket(Bucket=found.bucket)
        yield found
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def service_environment(s3: S3 | None = None) -> dict[str, str]:
    """The environment a child process gets: this one, the repository on the path, and the
    S3 endpoint's keys (what a deployment passes to its MLflow server and workers)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    if s3 is not None:
        env.update(S3_KEYS, MLFLOW_S3_ENDPOINT_URL=s3.endpoint)
    return env


@dataclass(frozen=True)
class Tracking:
    """A running MLflow server: the URI clients use, and what it stores where."""

    uri: str
    engine: str  # "embedded" (SQLite, a folder) or "services" (PostgreSQL, S3)
    backend: str
    artifacts: str


def start_mlflow(settings, env, log_path: Path) -> subprocess.Popen:
    """The MLflow server exactly as the production layout starts it."""
    from lifecycle.deployment import mlflow_server

    spec = mlflow_server(settings, BIN)
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        spec.command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_for_http(spec.health, timeout=180, proc=proc)
    except Exception as exc:
        proc.terminate()
        raise RuntimeError(f"MLflow server did not start: {log_path.read_text()[-2000:]}") from exc
    return proc


@pytest.fixture(scope="session")
def tracking_server(request, tmp_path_factory, postgres_database):
    """A factory of MLflow tracking servers, one per engine for the session (started on first
    use): "embedded" keeps SQLite and a folder; "services" PostgreSQL and the S3 bucket
    (``--artifacts-destination``). Clients (builders, serving homes) reach either over HTTP."""
    started: dict[str, tuple[Tracking, subprocess.Popen]] = {}

    def get(engine: str) -> Tracking:
        if engine == "services" and postgres_database is None:
            not_tested("MLflow on PostgreSQL + S3: PostgreSQL 127.0.0.1:5432 is not reachable")
            engine = "embedded"
        if engine not in started:
            started[engine] = _start_tracking(engine, tmp_path_factory, postgres_database, request)
        return started[engine][0]

    yield get
    for _, proc in started.values():
        proc.terminate()
        proc.wait(timeout=30)


def _start_tracking(engine, tmp_path_factory, postgres_database, request):
    from search.settings import Settings

    root = tmp_path_factory.mktemp(f"mlflow-{engine}")
    s3 = request.getfixturevalue("s3") if engine == "services" else None
    if s3 is not None:
        backend, artifacts = postgres_database("mlflow"), f"s3://{s3.bucket}/mlflow"
    else:
        backend, artifacts = f"sqlite:///{root / 'mlflow.db'}", (root / "artifacts").as_uri()
    port = free_port()
    server = Settings.from_profile(
        "dev",
        home=str(root / "server-home"),
        mlflow_backend_uri=backend,
        artifact_store=artifacts,
        mlflow_port=port,
        s3_endpoint_url=s3.endpoint if s3 else "",
    )
    proc = start_mlflow(server, service_environment(s3), root / "mlflow.log")
    return Tracking(f"http://127.0.0.1:{port}", engine, backend, artifacts), proc


@pytest.fixture(params=["embedded", "services"])
def tracking(request, tracking_server) -> Tracking:
    """The tracking server of each engine in turn."""
    return tracking_server(request.param)


# the Dagster fixtures (a labeled folder, resources wired to it) are the asset tests' own
from tests.dagster_project.conftest import docsearch, labeled_folder, resources  # noqa: E402,F401
