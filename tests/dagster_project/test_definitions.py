"""The Definitions object loads, with the graph, checks, jobs, sensor and schedule it promises."""

import dagster as dg

from dagster_project.definitions import defs

GROUPS = {
    "source_documents": "ingestion",
    "parse_report": "ingestion",
    "chunks": "indexing",
    "embeddings": "indexing",
    "index_version": "indexing",
    "retrieval_evaluation": "evaluation",
    "mlflow_run": "registry",
    "registered_version": "registry",
    "champion_alias": "registry",
    "training_pairs": "training",
    "fine_tuned_encoder": "training",
    "challenger_index": "training",
    "challenger_decision": "training",
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
        ("parse_report", "files_accounted"),
        ("chunks", "no_empty_chunks"),
        ("embeddings", "one_vector_per_chunk"),
        ("index_version", "counts_match_chunks"),
        ("retrieval_evaluation", "meets_floor"),
        ("retrieval_evaluation", "no_regression"),
        ("training_pairs", "has_pairs"),
        ("training_pairs", "has_validation"),
    }


def test_index_job_materializes_the_whole_graph_in_dependency_order():
    job = defs.resolve_job_def("index_job")
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == {
        name for name, group in GROUPS.items() if group != "training"
    }
    retrain = defs.resolve_job_def("retrain_job")
    assert {k.to_user_string() for k in retrain.asset_layer.selected_asset_keys} == {
        name for name, group in GROUPS.items() if group == "training"
    }
    graph = defs.resolve_asset_graph()

    def parents(name):
        return {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}

    assert parents("chunks") == {"source_documents"}
    assert parents("embeddings") == {"chunks"}
    assert parents("index_version") == {"source_documents", "chunks", "embeddings"}
    assert parents("retrieval_evaluation") == {"index_version"}
    assert parents("mlflow_run") == {"index_version", "retrieval_evaluation"}
    assert parents("champion_alias") == {"registered_version"}


def test_sensor_and_nightly_schedule():
    sensor = defs.resolve_sensor_def("documents_sensor")
    assert sensor.job_name == "index_job"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    schedule = defs.resolve_schedule_def("nightly_evaluation")
    assert schedule.job_name == "evaluation_job"
    assert schedule.cron_schedule == "0 3 * * *"


def test_library_packages_do_not_import_dagster():
    import subprocess
    import sys

    code = (
        "import sys, lifecycle.registry, search.index, lifecycle.gate, evaluation.runner;"
        "print('dagster' in sys.modules, 'streamlit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
