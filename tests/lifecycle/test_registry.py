"""The promotion gate, and index versions in a real MLflow SQLite store: register, promote,
roll back, compare, resolve the champion, and the CLI commands over them."""

from pathlib import Path

import pytest

from app.cli import main
from evaluation.metrics import Evaluation
from lifecycle.gate import GatePolicy, decide
from lifecycle.registry import CHALLENGER, CHAMPION, Registry, resolve_champion
from search.config import IndexConfig
from search.index import MANIFEST, IndexStore, read_manifest
from search.settings import Settings

POLICY = GatePolicy(floor=0.5, tolerance=0.01)


def test_gate_first_good_build_is_promoted():
    verdict = decide({"sample/ndcg_at_10": 0.62}, None, POLICY)
    assert verdict.promote and verdict.reason.startswith("first good build")


def test_gate_below_floor_is_rejected():
    verdict = decide({"sample/ndcg_at_10": 0.49}, None, POLICY)
    assert not verdict.promote and "below the floor" in verdict.reason


def test_gate_regression_beyond_tolerance_is_rejected():
    champion = {"sample/ndcg_at_10": 0.80, "sample/mrr_at_10": 0.70, "build_seconds": 3.0}
    # ndcg drops 0.005 (within 0.01), mrr drops 0.02 (beyond); build time is not gated
    new = {"sample/ndcg_at_10": 0.795, "sample/mrr_at_10": 0.68, "build_seconds": 9.0}
    verdict = decide(new, champion, POLICY)
    assert not verdict.promote
    assert verdict.regressions == {"sample/mrr_at_10": pytest.approx(-0.02)}
    assert verdict.as_tags()["gate.decision"] == "reject"


def test_gate_within_tolerance_is_promoted():
    verdict = decide({"sample/ndcg_at_10": 0.795}, {"sample/ndcg_at_10": 0.80}, POLICY)
    assert verdict.promote and verdict.regressions == {}


def test_gate_checks_report_floor_and_regressions_whatever_the_decision():
    from lifecycle.gate import check, is_quality_metric

    champion = {"sample/ndcg_at_10": 0.80, "sample/recall_at_100": 1.0, "sample/seconds": 1.0}
    # below the floor (0.45 < 0.5) and down 0.35 on nDCG, 0.02 on recall (both beyond 0.01)
    new = {"sample/ndcg_at_10": 0.45, "sample/recall_at_100": 0.98, "sample/seconds": 9.0}
    checks = check(new, champion, POLICY)
    assert not checks.meets_floor and not checks.no_regression
    assert checks.regressions == {
        "sample/ndcg_at_10": pytest.approx(-0.35),
        "sample/recall_at_100": pytest.approx(-0.02),
    }
    assert check(new, None, POLICY).regressions == {}  # no champion: nothing to regress from
    assert decide(new, champion, POLICY).reason.endswith("is below the floor 0.5000")
    # the gated names are evaluation's metric names under any set
    assert is_quality_metric("scifact/mrr_at_10") and not is_quality_metric("sample/seconds")


def test_the_tolerance_default_is_written_once():
    # every interface defaults to GatePolicy's own tolerance (0.01: one point of nDCG@10)
    assert GatePolicy().tolerance == GatePolicy.tolerance == 0.01


def test_the_registry_package_keeps_its_names_and_leaves_the_environment_alone():
    import subprocess
    import sys

    names = (
        "CHAMPION CHALLENGER MODEL_NAME EXPERIMENT Registry Champion IndexModel resolve_champion "
        "activate_local quality_metrics HISTORY_TAG INDEX_VERSION_TAG INDEX_PATH_TAG INDEX_ROOT_TAG"
    )
    code = (
        "import os; os.environ.pop('MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR', None); "
        f"from lifecycle.registry import {', '.join(names.split())}; "
        "print('MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR' in os.environ)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # importing the library writes no environment variable


@pytest.fixture
def settings(home) -> Settings:
    return Settings(home=home, docs=home / "docs", model="hashing-128")


def _build(settings, tiny_docs, hashing_encoder, registry, ndcg, per_query):
    """Save an index version and log it as a run with a given sample evaluation."""
    from search.index import SearchIndex

    store = IndexStore(settings.index_root())
    version = store.write(
        SearchIndex.build(tiny_docs, IndexConfig(model="hashing-128"), hashing_encoder),
        activate=False,
    )
    path = store.path(version)
    evaluation = Evaluation(
        mean={"ndcg_at_10": ndcg, "recall_at_100": 1.0, "mrr_at_10": ndcg},
        per_query={
            q: {"ndcg_at_10": v, "recall_at_100": 1.0, "mrr_at_10": v} for q, v in per_query.items()
        },
    )

    run_id = registry.log_build(
        path,
        read_manifest(path),
        {"sample": evaluation},
        {"chunks": 6},
    )
    return str(registry.register(run_id, path).version), version


def test_promote_rollback_compare_and_resolve(settings, tiny_docs, hashing_encoder, capsys):
    registry = Registry.from_settings(settings)
    assert resolve_champion(settings) is None  # no store yet: the app falls back

    # v1: per-query nDCG (1, 1, 0.5, 0.5) -> mean 0.75; v2: (1, 1, 1, 1) -> mean 1.0
    v1, index1 = _build(
        settings,
        tiny_docs,
        hashing_encoder,
        registry,
        0.75,
        {"q1": 1, "q2": 1, "q3": 0.5, "q4": 0.5},
    )
    v2, index2 = _build(
        settings, tiny_docs, hashing_encoder, registry, 1.0, {"q1": 1, "q2": 1, "q3": 1, "q4": 1}
    )
    store = IndexStore(settings.index_root())

    assert registry.promote(v1, POLICY)[1] is True
    assert resolve_champion(settings).path == store.path(index1)
    assert store.current() == index1

    assert main(["promote", v2]) == 0  # gate passes: 1.0 >= 0.75
    assert str(registry.alias(CHAMPION).version) == v2
    assert store.current() == index2
    champion = resolve_champion(settings)
    assert champion.label == f"docsearch-index v{v2}" and champion.path == store.path(index2)
    assert champion.index_version == index2
    # when it became champion, for "v2, champion since 4 Dec"
    assert champion.since == registry.version(v2).tags["docsearch.champion_since"] != ""

    assert main(["rollback"]) == 0
    assert str(registry.alias(CHAMPION).version) == v1 and store.current() == index1
    assert main(["rollback"]) == 2  # nothing earlier than v1

    # v2 -> v1 would drop nDCG by 0.25: rejected, becomes challenger, unless forced
    assert main(["promote", v2, "--floor", "1.1"]) == 1
    assert str(registry.alias(CHALLENGER).version) == v2
    assert main(["promote", v2, "--floor", "1.1", "--force"]) == 0
    assert str(registry.alias(CHAMPION).version) == v2 and registry.alias(CHALLENGER) is None

    capsys.readouterr()
    assert main(["compare", v1, v2]) == 0
    out = capsys.readouterr().out
    # deltas per query (0, 0, 0.5, 0.5): mean delta +0.25; paired t-test p = 0.182 (t = 1.73, 3 df)
    assert "ndcg_at_10: 0.7500 -> 1.0000  +0.2500  p=0.182" in out
    deltas = registry.compare(v1, v2)["sample"]
    assert deltas[0].metric == "ndcg_at_10" and not deltas[0].significant


def test_champion_is_downloaded_when_the_local_index_is_gone(settings, tiny_docs, hashing_encoder):
    import shutil

    registry = Registry.from_settings(settings)
    v1, index1 = _build(settings, tiny_docs, hashing_encoder, registry, 0.9, {"q1": 0.9})
    registry.promote(v1, POLICY)
    shutil.rmtree(IndexStore(settings.index_root()).path(index1))
    champion = resolve_champion(settings)
    assert champion.path.is_relative_to(settings.models_dir)
    assert Path(champion.path, MANIFEST).is_file() and champion.index_version == index1


def test_a_champion_rescored_on_new_feedback_keeps_the_fresh_score(settings):
    from lifecycle.loop.records import _add_evaluations

    registry = Registry(settings.mlflow_uri, settings.mlflow_artifacts)
    run_id = registry.client.create_run(registry.experiment_id()).info.run_id
    for score in (0.90, 0.86):  # two turns of the loop, each with its own held-back feedback
        _add_evaluations(registry, run_id, {"feedback": Evaluation({"ndcg_at_10": score}, {})})
    # the second turn's lower score is what the UI shows and the gate compares against
    assert registry.client.get_run(run_id).data.metrics["feedback/ndcg_at_10"] == 0.86
