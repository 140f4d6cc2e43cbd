"""The Definitions object loads, with the graph, checks, jobs, sensor and schedule it promises."""

import dagster as dg

from dagster_project.definitions import defs

GROUPS = {
    "source_mirror": "sources",
    "source_documents": "ingestion",
    "parse_report": "ingestion",
    "chunks": "indexing",
    "embeddings": "indexing",
    "index_version": "indexing",
    "retrieval_evaluation": "evaluation",
    "mlflow_run": "registry",
    "registered_version": "registry",
    "champion_alias": "registry",
    "feedback_events": "training",
    "training_pairs": "training",
    "fine_tuned_encoder": "training",
    "challenger_index": "training",
    "challenger_decision": "training",
    "serving_health": "monitoring",
    "online_experiments": "monitoring",
}


def test_definitions_load_with_every_asset_in_its_group():
    graph = defs.resolve_asset_graph()
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == GROUPS


def test_asset_checks_sit_next_to_their_assets():
    checks = {
        (key.asset_key.to_user_string(), key.name)
        for key in defs.resolve_asset_graph().asset_check_keys
    }
    assert checks == {
        ("source_mirror", "sources_fresh"),
        ("parse_report", "files_accounted"),
        ("chunks", "no_empty_chunks"),
        ("embeddings", "one_vector_per_chunk"),
        ("index_version", "counts_match_chunks"),
        ("retrieval_evaluation", "meets_floor"),
        ("retrieval_evaluation", "no_regression"),
        ("training_pairs", "has_pairs"),
        ("training_pairs", "has_validation"),
        ("serving_health", "queries_near_evaluation"),
        ("serving_health", "query_words_known"),
        ("serving_health", "index_fresh"),
        ("serving_health", "evaluation_recent"),
        ("online_experiments", "canary_healthy"),
    }


def test_index_job_materializes_the_whole_graph_in_dependency_order():
    job = defs.resolve_job_def("index_job")
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == {
        name for name, group in GROUPS.items() if group not in ("training", "sources", "monitoring")
    }  # a source's sync is a partition of sources_job; the corpus reads every mirror
    retrain = defs.resolve_job_def("retrain_job")
    assert {k.to_user_string() for k in retrain.asset_layer.selected_asset_keys} == {
        name for name, group in GROUPS.items() if group == "training"
    } - {"feedback_events"}  # a source: observed by the feedback sensor, never materialized
    graph = defs.resolve_asset_graph()

    def parents(name):
        return {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}

    assert parents("source_documents") == {"source_mirror"}
    assert parents("chunks") == {"source_documents"}
    assert parents("embeddings") == {"chunks"}
    assert parents("index_version") == {"source_documents", "chunks", "embeddings"}
    assert parents("retrieval_evaluation") == {"index_version"}
    assert parents("mlflow_run") == {"index_version", "retrieval_evaluation"}
    assert parents("champion_alias") == {"registered_version"}
    # the training graph hangs off the feedback it learns from and the version that serves
    assert parents("training_pairs") == {"feedback_events", "champion_alias"}
    assert graph.get(dg.AssetKey("feedback_events")).is_observable


def test_chunking_and_embedding_run_in_batches_and_home_steps_go_to_the_builder_queue():
    job = defs.resolve_job_def("index_job")
    nodes = {n.name: n for n in job.graph.nodes}
    inner = {n.name: n for node in ("chunks", "embeddings") for n in nodes[node].definition.nodes}
    assert set(inner) == {
        "plan_chunking",
        "chunk_documents",
        "collect_chunks",
        "plan_embedding",
        "embed_chunks",
        "collect_embeddings",
    }
    queue = "dagster-celery/queue"
    for name in ("chunk_documents", "embed_chunks", "collect_chunks"):  # any worker, any machine
        assert queue not in inner[name].definition.tags
    for name in ("plan_chunking", "plan_embedding", "collect_embeddings"):
        assert inner[name].definition.tags[queue] == "builder"
    for name in ("source_documents", "index_version", "retrieval_evaluation", "champion_alias"):
        assert nodes[name].definition.tags[queue] == "builder"


def test_the_executor_comes_from_the_settings():
    from dagster_celery import celery_executor

    from dagster_project.automation import executor_for
    from search.settings import Settings

    assert executor_for(Settings.from_profile("dev")) is dg.in_process_executor
    multi = Settings.from_profile("dev", executor="multiprocess")
    assert executor_for(multi).name == dg.multiprocess_executor.name
    celery = executor_for(Settings.from_profile("dev", executor="celery"))
    assert celery.name == celery_executor.name
    import pytest

    with pytest.raises(ValueError, match="use one of in_process, multiprocess, celery"):
        executor_for(Settings.from_profile("dev", executor="threads"))


def test_sensor_and_nightly_schedule():
    sensor = defs.resolve_sensor_def("documents_sensor")
    assert sensor.job_name == "index_job"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    schedule = defs.resolve_schedule_def("nightly_evaluation")
    assert schedule.job_name == "evaluation_job"
    assert schedule.cron_schedule == "0 3 * * *"
    # the health sensor may start the job of a failing check's action
    health = defs.resolve_sensor_def("health_sensor")
    assert {job.name for job in health.jobs} == {
        "health_job",
        "index_job",
        "retrain_job",
        "evaluation_job",
    }


def test_library_packages_do_not_import_dagster():
    import subprocess
    import sys

    code = (
        "import sys, lifecycle.registry, search.index, lifecycle.gate, evaluation.runner;"
        "print('dagster' in sys.modules, 'streamlit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
