"""Sources in the pipeline, on a real (ephemeral) Dagster instance: one dynamic partition per
source kept by the sources sensor, a sync requested only when the store changed, the partition
materialized, documents_sensor building the corpus after it, the documents asset recording each
source's objects, and the freshness check failing for a source out of step too long."""

from __future__ import annotations

import time

import dagster as dg
import pytest

from dagster_project.assets import INDEX_ASSETS
from dagster_project.assets.sources import SOURCE_PARTITIONS, source_mirror, sources_fresh
from dagster_project.automation import documents_sensor
from dagster_project.definitions import defs
from dagster_project.source_automation import sources_sensor
from lifecycle.sources import add_source, list_sources


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture
def share(tmp_path):
    root = tmp_path / "share"
    root.mkdir()
    (root / "leave.md").write_text("# Leave\n\nParental leave is sixteen weeks.")
    (root / "canteen.txt").write_text("Canteen\n\nThe canteen opens at eight.")
    return root


def _tick(sensor, instance, docsearch):
    context = dg.build_sensor_context(instance=instance, resources={"docsearch": docsearch})
    return sensor(context)


def _sync(instance, resources, name):
    result = dg.materialize(
        [source_mirror, sources_fresh], partition_key=name, resources=resources, instance=instance
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    return {k: v.value for k, v in event.materialization.metadata.items()}, checks


def test_the_definitions_hold_the_sources_job_sensor_and_schedule():
    job = defs.resolve_job_def("sources_job")
    assert job.partitions_def == SOURCE_PARTITIONS
    assert {s.name for s in defs.sensors} >= {"sources_sensor", "documents_sensor"}
    assert "sources_freshness" in {s.name for s in defs.schedules}
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("source_mirror") in graph.get(dg.AssetKey("source_documents")).parent_keys


def test_a_source_synced_through_its_partition_and_built_into_the_index(
    instance, resources, docsearch, share
):
    settings = docsearch.settings()
    add_source(settings, "files", share.as_uri(), {"interval": "1"})  # looked at every second
    first = _tick(sources_sensor, instance, docsearch)
    (added,) = first.dynamic_partitions_requests
    assert list(added.partition_keys) == ["files"]
    assert [(r.partition_key, r.run_key.startswith("files-")) for r in first.run_requests] == [
        ("files", True)
    ]
    instance.add_dynamic_partitions(SOURCE_PARTITIONS.name, ["files"])

    metadata, checks = _sync(instance, resources, "files")
    assert (metadata["added"], metadata["updated"], metadata["failed"]) == (2, 0, 0)
    assert checks["sources_fresh"].passed  # just synced: in step
    assert _tick(sources_sensor, instance, docsearch).skip_reason.skip_message == (
        "no source is due"
    )
    time.sleep(1.1)
    again = _tick(sources_sensor, instance, docsearch)  # due: looked at, nothing new
    assert again.run_requests == [] and again.skip_reason.skip_message == "files: unchanged"

    assert isinstance(_tick(documents_sensor, instance, docsearch), dg.RunRequest)
    built = dg.materialize(INDEX_ASSETS, resources=resources, instance=instance)
    assert built.success
    (event,) = [
        e
        for e in built.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "source_documents"
    ]
    recorded = event.materialization.metadata
    assert recorded["new"].value == 6 + 2  # the labeled folder's six and the source's two
    assert "| files | 2 | file://" in recorded["sources"].value
    version = docsearch.store().current()
    documents = docsearch.store().load(version).documents
    leave = documents["files/leave.md"]["metadata"]
    assert leave["source_url"] == (share / "leave.md").as_uri()
    assert leave["source_version"] and leave["source"] == "files"
    assert isinstance(_tick(documents_sensor, instance, docsearch), dg.SkipReason)

    (share / "canteen.txt").unlink()  # the store changes: a sync is requested, then a build
    time.sleep(1.1)
    changed = _tick(sources_sensor, instance, docsearch)
    assert [r.partition_key for r in changed.run_requests] == ["files"]
    metadata, _ = _sync(instance, resources, "files")
    assert (metadata["deleted"], metadata["unchanged"]) == (1, 1)
    request = _tick(documents_sensor, instance, docsearch)
    assert isinstance(request, dg.RunRequest)


def test_the_freshness_check_fails_for_a_source_out_of_step(instance, resources, docsearch, share):
    settings = docsearch.settings()
    add_source(settings, "files", share.as_uri(), {"interval": "1"})  # one second
    add_source(settings, "gone", (share.parent / "nowhere").as_uri(), {})  # never in step
    instance.add_dynamic_partitions(SOURCE_PARTITIONS.name, ["files", "gone"])
    _, checks = _sync(instance, resources, "files")
    check = checks["sources_fresh"]
    assert not check.passed and check.metadata["stale"].value == 1  # "gone": never synced
    assert "| gone | never |" in check.metadata["stale_sources"].value

    failed = dg.materialize(
        [source_mirror], partition_key="gone", resources=resources, instance=instance,
        raise_on_error=False,
    )  # fmt: skip
    assert not failed.success  # the store is not there: the run fails, the mirror is kept
    assert {s.name: s.status for s in list_sources(settings)} == {"files": "ok", "gone": "failed"}

    time.sleep(1.1)  # past the one-second interval of "files"
    alone = dg.materialize(  # the check alone, as sources_freshness_job runs it
        [source_mirror, sources_fresh],
        selection=dg.AssetSelection.checks_for_assets(source_mirror),
        resources=resources,
        instance=instance,
    )
    (check,) = alone.get_asset_check_evaluations()
    assert not check.passed and check.metadata["stale"].value == 2
