"""index_job's batches side by side: the multiprocess executor on this machine, and Dagster's
Celery executor on two workers (a builder worker and one that could be on any machine, values
passed through the S3 bucket, nothing through a shared folder). Each gives the index the
in-process run gives: the same chunk ids, the same vectors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lifecycle.deployment import processes, write_instance
from search.index import IndexStore, SearchIndex
from search.settings import Settings, env_name
from tests.dagster_project.conftest import make_labeled_folder
from tests.deploy.conftest import BIN, ROOT, not_tested, service_environment

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
BROKERS = {
    "RabbitMQ": ("127.0.0.1", 5672, "pyamqp://guest:guest@127.0.0.1:5672//"),
    "Redis": ("127.0.0.1", 6379, "redis://127.0.0.1:6379/11"),
}


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=3).close()
        return True
    except OSError:
        return False


def _environment(home: Path, labeled: Path, **fields) -> tuple[Settings, dict[str, str]]:
    """One environment's settings and the variables that give a child process the same."""
    values = {
        "home": str(home),
        "docs": str(labeled / "docs"),
        "sample_set": str(labeled),
        "model": "hashing-128",
        "batch_size": "3",  # 6 documents: 2 chunking batches, 2 embedding batches
        **fields,
    }
    env = {env_name(k): str(v) for k, v in values.items()}
    env.pop("MLFLOW_TRACKING_URI", None)
    return Settings.from_profile("dev", **values), env


def _index_job(settings: Settings, env: dict, s3=None) -> str:
    """Run index_job as `dagster job execute` does in production; the run's id."""
    from lifecycle.deployment import environment

    write_instance(settings)
    child = {**service_environment(s3), **environment(settings), **env}
    child.pop("MLFLOW_TRACKING_URI")  # each home its own SQLite registry
    cmd = [str(BIN / "dagster"), "job", "execute", "-m", "dagster_project", "-j", "index_job"]
    out = subprocess.run(cmd, cwd=ROOT, env=child, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    import dagster as dg

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        (run,) = instance.get_runs()
        assert run.is_success
        return run.run_id


def _built(settings: Settings) -> SearchIndex:
    store = IndexStore(settings.index_root())
    return store.load(store.latest())


def _same_index(a: SearchIndex, b: SearchIndex) -> None:
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks]
    assert len(a.chunks) == 6
    np.testing.assert_array_equal(a.dense.vectors(), b.dense.vectors())


@pytest.fixture(scope="module")
def labeled(tmp_path_factory) -> Path:
    """One documents folder for every run of this module (read only)."""
    return make_labeled_folder(tmp_path_factory.mktemp("workers"))


@pytest.fixture(scope="module")
def in_process(tmp_path_factory, labeled):
    settings, env = _environment(tmp_path_factory.mktemp("in-process") / "home", labeled)
    _index_job(settings, env)
    return _built(settings)


def test_the_multiprocess_executor_runs_the_batches_side_by_side(tmp_path, labeled, in_process):
    settings, env = _environment(tmp_path / "multi", labeled, executor="multiprocess")
    run_id = _index_job(settings, env)
    _same_index(in_process, _built(settings))
    steps = _step_processes(settings, run_id)
    # every batch is a step of its own, each in a process of its own
    assert sorted(k for k in steps if k.startswith("chunks.chunk_documents")) == [
        f"chunks.chunk_documents[batch_0000{i}]" for i in range(2)
    ]
    assert len(set(steps.values())) == len(steps)


def _step_processes(settings: Settings, run_id: str) -> dict[str, int]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        records = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
    return {r.step_key: r.dagster_event.pid for r in records}


def test_celery_workers_build_the_same_index(tmp_path, labeled, in_process, s3, postgres_database):
    broker = next((b for b in BROKERS.values() if _reachable(b[0], b[1])), None)
    if broker is None:
        not_tested("Celery workers: neither RabbitMQ 127.0.0.1:5672 nor Redis :6379 answers")
        return  # the multiprocess and in-process runs above are the embedded path
    url = postgres_database("workers") if postgres_database else ""
    if not url:
        not_tested("Celery run on a PostgreSQL Dagster instance: PostgreSQL is not reachable")
    storage = f"s3://{s3.bucket}/dagster-{tmp_path.name}"
    settings, env = _environment(
        tmp_path / "celery",
        labeled,
        executor="celery",
        celery_broker=broker[2],
        dagster_storage=storage,
        s3_endpoint_url=s3.endpoint,
        dagster_database_url=url,
    )
    write_instance(settings)
    workers = [_start_worker(settings, env, s3, name) for name in ("builder-worker", "worker")]
    try:
        run_id = _index_job(settings, env, s3)
    finally:
        for proc in workers:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in workers:
            proc.wait(timeout=60)
    _same_index(in_process, _built(settings))
    hosts = _celery_hosts(settings, run_id)
    assert {h.split("@")[0] for h in hosts.values()} <= {"builder", "worker"}
    for step in ("source_documents", "index_version", "champion_alias"):
        assert hosts[step].startswith("builder@")  # the builder's home and documents
    assert len([k for k in hosts if k.startswith("embeddings.embed_chunks")]) == 2
    assert any(key.startswith(f"dagster-{tmp_path.name}/") for key in s3.keys())


def _start_worker(settings: Settings, env: dict, s3, name: str) -> subprocess.Popen:
    """A worker as the production layout starts it (scripts/serve.py NAME)."""
    from lifecycle.deployment import environment

    spec = processes(settings, BIN)[name]
    child = {**service_environment(s3), **environment(settings), **env}
    child.pop("MLFLOW_TRACKING_URI")
    log = open(settings.home.parent / f"{name}.log", "w")  # noqa: SIM115
    settings.home.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        spec.command,
        cwd=ROOT,
        env=child,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while "ready." not in Path(log.name).read_text():
        assert proc.poll() is None, Path(log.name).read_text()[-3000:]
        assert time.monotonic() < deadline, f"{name} did not start"
        time.sleep(1)
    return proc


def _celery_hosts(settings: Settings, run_id: str) -> dict[str, str]:
    """step key -> the Celery worker that ran it (from the engine events of the run)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        records = instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    hosts = {}
    for record in records:
        data = record.dagster_event.engine_event_data
        worker = data.metadata.get("Celery worker") if data else None
        if worker is not None and record.step_key:
            hosts[record.step_key] = worker.value
    return hosts


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
