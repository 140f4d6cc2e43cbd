"""Dagster's instance made from the settings: SQLite under DAGSTER_HOME by default, PostgreSQL
(dagster-postgres) when DOCSEARCH_DAGSTER_DATABASE_URL is set; the pipeline runs on both."""

from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.assets import INDEX_ASSETS
from lifecycle.deployment import (
    BUILDER_QUEUE,
    DAGSTER_YAML,
    processes,
    workspace_yaml,
    write_instance,
)
from lifecycle.registry import CHAMPION, Registry
from search.settings import Settings
from tests.deploy.conftest import BIN, not_tested


def test_the_instance_files_name_the_engines_the_settings_choose(tmp_path):
    embedded = Settings.from_profile("dev", home=str(tmp_path / "a"))
    text = (write_instance(embedded) / DAGSTER_YAML).read_text()
    assert "postgres" not in text and "max_concurrent_runs: 1" in text
    url = "postgresql://dagster@db.internal:5432/dagster"
    shared = Settings.from_profile("prod", home=str(tmp_path / "b"), dagster_database_url=url)
    text = (write_instance(shared) / DAGSTER_YAML).read_text()
    # the driver named: SQLAlchemy 2.1 would give a bare postgresql:// URL to psycopg 3
    assert 'postgres_url: "postgresql+psycopg2://dagster@db.internal:5432/dagster"' in text
    assert "port: 4100" in workspace_yaml(shared)  # prod's code server port (docsearch.toml)
    layout = processes(shared, BIN)
    assert layout["daemon"].command[1:] == [
        "run",
        "-w",
        str(shared.dagster_home / "workspace.yaml"),
    ]
    queues = " ".join(layout["builder-worker"].command)
    assert f"-q dagster -q {BUILDER_QUEUE}" in queues and "-q builder" not in " ".join(
        layout["worker"].command
    )


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_index_job_runs_on_the_instance_and_its_runs_are_stored_there(
    engine, tmp_path, postgres_database, resources, docsearch
):
    url = ""
    if engine == "postgres":
        if postgres_database is None:
            not_tested("Dagster instance on PostgreSQL: 127.0.0.1:5432 is not reachable")
        else:
            url = postgres_database("dagster")
    settings = Settings.from_profile("dev", home=docsearch.home, dagster_database_url=url)
    with dg.DagsterInstance.from_config(str(write_instance(settings))) as instance:
        result = dg.materialize(INDEX_ASSETS, resources=resources, instance=instance)
        assert result.success
        stored = instance.get_run_by_id(result.run_id)
        assert stored is not None and stored.is_success
        storage = type(instance.run_storage).__name__
    assert storage == ("PostgresRunStorage" if url else "SqliteRunStorage")
    if url:  # the run is a row of PostgreSQL's own table, not a file under the home
        import psycopg2

        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT run_id, status FROM runs")
            assert cur.fetchall() == [(result.run_id, "SUCCESS")]
    registry = Registry.from_settings(docsearch.settings())
    champion = registry.client.get_run(registry.alias(CHAMPION).run_id)
    assert champion.data.tags["dagster.run_id"] == result.run_id
