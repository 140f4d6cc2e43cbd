"""Drift and freshness checks through a real Dagster instance: on the labeled fixture folder
with people asking its own questions every check passes; on a set built to drift (questions
about nothing indexed, in words the index does not know, a document added after the build, an
evaluation older than allowed) every check fails; and the Dagster UI shows the failing check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.assets import INDEX_ASSETS, MONITORING_ASSETS
from evaluation.beir import load_labeled_set
from lifecycle import health
from lifecycle.feedback import FeedbackStore, search_and_log
from lifecycle.serving import resolve_serving

ROOT = Path(__file__).resolve().parents[2]
DRIFTED = [
    "zorblax quantum kayak firmware",
    "glimmerfen tax on xylophones",
    "wumpus hunting season permits",
    "flurbish marmalade voltage",
    "quixotic snarfblat regatta",
    "plonkish vortex mittens",
    "grimbleshanks orbital yodel",
    "trombulate kumquat ledger",
    "snozzberry hyperdrive warranty",
    "blorptastic ferret tariff",
]


def _ask(settings, questions):
    """People's searches on what serves, logged as the app logs them."""
    from lifecycle.serving import LoadedIndexes

    served = resolve_serving(settings)
    index = LoadedIndexes(keep=1).index(served)
    store = FeedbackStore(settings.feedback_url)
    for i, question in enumerate(questions):
        search_and_log(index, store, question, f"person-{i}", served.version, source="search")
    store.close()


def _checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


@pytest.mark.slow
@pytest.mark.browser
def test_checks_pass_on_the_sample_and_fail_on_a_drifted_set(
    resources, docsearch, labeled_folder, home, monkeypatch, browser_page, tmp_path
):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_root_conftest", ROOT / "tests" / "conftest.py")
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)  # tests/conftest.py and tests/*/conftest.py share a name
    free_port, wait_for_http = helpers.free_port, helpers.wait_for_http
    # the tiny corpus does not use some words of its own questions ("many", "minimum"): 0.25
    # of a question's content words on average, so this environment allows 0.5
    monkeypatch.setenv("DOCSEARCH_DRIFT_MAX_UNKNOWN_WORDS", "0.5")
    dagster_home = home / "dagster-instance"
    dagster_home.mkdir(parents=True)
    with dg.DagsterInstance.local_temp(tempdir=str(dagster_home)) as instance:
        assert dg.materialize(INDEX_ASSETS, resources=resources, instance=instance).success
        settings = docsearch.settings()
        asked = list(load_labeled_set(labeled_folder, with_documents=False).queries.values())
        _ask(settings, asked)  # people ask what the evaluation set asks
        result = dg.materialize(MONITORING_ASSETS, resources=resources, instance=instance)
        assert _checks(result) == {**dict.fromkeys(health.CHECKS, True), "canary_healthy": True}

        # drift: ten questions about nothing indexed, in unknown words; a document added after
        # the build; an evaluation allowed to be 0.36 seconds old at most
        _ask(settings, DRIFTED)
        (Path(settings.docs) / "new-policy.txt").write_text("New policy\n\nRemote work rules.\n")
        monkeypatch.setenv("DOCSEARCH_FRESHNESS_MAX_EVALUATION_AGE_HOURS", "0.0001")
        checks = {c.name: c for c in health.serving_health(docsearch.settings())}
        # far: 10 of 15 questions (the 5 asked before are the evaluation's own: cosine 1)
        assert checks[health.QUERIES_NEAR_EVALUATION].value == pytest.approx(10 / 15)
        # words no document uses: every content word of the 10 (common English "kayak" too);
        # of the 5: "many" of 4 (weeks, parental and leave are used), 0, "allowance" of 3 ("meal"
        # meets "Meals" by its stem), 0, "minimum" and "length" of 3
        expected = (10 + 1 / 4 + 1 / 3 + 2 / 3) / 15
        assert checks[health.QUERY_WORDS_KNOWN].value == pytest.approx(expected)
        assert checks[health.INDEX_FRESH].value == 1.0  # new-policy.txt
        assert {c.action for c in checks.values()} == {"retrain", "alert", "re-index", "evaluate"}
        result = dg.materialize(MONITORING_ASSETS, resources=resources, instance=instance)
        assert _checks(result) == {**dict.fromkeys(health.CHECKS, False), "canary_healthy": True}

    # the Dagster UI on that instance shows the failing checks
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env |= {
        "DAGSTER_HOME": str(dagster_home),
        "DOCSEARCH_HOME": str(home),
        "DOCSEARCH_DOCS": str(settings.docs),
        "DOCSEARCH_MODEL": "hashing-128",
        "DOCSEARCH_SAMPLE_SET": str(labeled_folder),
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / "webserver.log", "w")  # noqa: SIM115 - closed below
    webserver = [sys.executable, "-m", "dagster_webserver", "-m", "dagster_project"]
    proc = subprocess.Popen(
        [*webserver, "-h", "127.0.0.1", "-p", str(port)], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/server_info", timeout=240, proc=proc)
        page = browser_page
        page.goto(url + "/assets/serving_health?view=checks", wait_until="domcontentloaded")
        page.get_by_text("index_fresh").first.wait_for(timeout=120_000)
        page.get_by_text("Failed").first.wait_for(timeout=60_000)
        skip = page.get_by_role("button", name="Skip")  # Dagster's newsletter dialog
        if skip.is_visible():
            skip.click()
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "test-artifacts" / "dagster-health-checks.png"))
        body = page.inner_text("body")
        assert all(name in body for name in health.CHECKS)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)
        log.close()
