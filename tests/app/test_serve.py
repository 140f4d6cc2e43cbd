"""`make run`'s launcher: the terminal shows progress, addresses and errors; each process's
own output goes to its log file."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from lifecycle.deployment import Process

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("serve_script", ROOT / "scripts" / "serve.py")
serve = importlib.util.module_from_spec(spec)
spec.loader.exec_module(serve)


def test_a_chatty_process_goes_to_its_log_and_a_failure_shows_its_end(tmp_path, capsys):
    chatty = "for i in range(500): print('debug line', i)\nraise SystemExit(3)"
    services = {"api": Process("REST API", [sys.executable, "-c", chatty], "nothing", "")}
    assert serve.run(services, {}, tmp_path) == 1
    out = capsys.readouterr()
    log = tmp_path / "api.log"
    assert len(log.read_text().splitlines()) == 500  # everything, in the file
    terminal = out.out + out.err
    assert "REST API exited with code 3" in terminal and str(log) in terminal
    assert "debug line 499" in terminal and "debug line 479" not in terminal  # the last 20
    assert terminal.count("debug line") == serve.TAIL_LINES


def test_the_mlflow_link_opens_the_runs_table_with_the_metric_columns():
    url = serve.mlflow_runs_url("http://127.0.0.1:5000/", "3")
    assert url == (
        "http://127.0.0.1:5000/#/experiments/3/runs"
        "?viewStateShareKey=docsearch-metrics&compareRunsMode=TABLE"
    )
    view = serve.shared_view(["sample/ndcg_at_10", "sample/mrr_at_10"], "sample/ndcg_at_10")
    assert view == {
        "orderByKey": "metrics.`sample/ndcg_at_10`",
        "orderByAsc": False,
        "selectedColumns": ["metrics.`sample/mrr_at_10`", "metrics.`sample/ndcg_at_10`"],
    }


@pytest.mark.slow
def test_the_shared_view_is_saved_on_the_experiment(tmp_path):
    from lifecycle.registry import RunLog
    from search.settings import Settings

    settings = Settings(home=tmp_path, docs=tmp_path)
    assert serve.experiment_link(settings, "http://mlflow") == "http://mlflow"  # none yet
    log = RunLog.from_settings(settings)
    experiment_id = log.experiment_id()
    run = log.client.create_run(experiment_id)
    for key in ("sample/ndcg_at_10", "sample/recall_at_100", "build_seconds"):
        log.client.log_metric(run.info.run_id, key, 0.5)
    link = serve.experiment_link(settings, "http://mlflow")
    assert link == serve.mlflow_runs_url("http://mlflow", experiment_id)
    tags = log.client.get_experiment(experiment_id).tags
    saved = json.loads(tags[f"mlflow.sharedViewState.{serve.SHARED_VIEW}"])
    assert saved["selectedColumns"] == [
        "metrics.`sample/ndcg_at_10`",
        "metrics.`sample/recall_at_100`",
    ]


@pytest.mark.slow
def test_ready_means_the_api_warmed_up_and_the_first_search_page_rendered(
    app_home, capsys, monkeypatch
):
    import socket
    import subprocess
    import time

    from search.settings import Settings

    for name in ("DOCSEARCH_APP_PORT", "DOCSEARCH_API_PORT"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            monkeypatch.setenv(name, str(s.getsockname()[1]))
    settings = Settings.from_env()
    services = serve.selected(settings, ["app", "api"])
    env = serve._environment(settings)
    logs = serve.log_dir(settings)
    procs = {}
    try:
        for name, spec in services.items():
            with open(logs / f"{name}.log", "w") as out:
                procs[name] = subprocess.Popen(
                    spec.command, cwd=ROOT, env=env, start_new_session=True,
                    stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
        started = time.monotonic()
        for name, spec in services.items():
            serve._wait(spec.name, spec.health, procs[name], timeout=180)
        serve.warm_up(services, procs, started)
    finally:
        serve._stop(procs)
    out = capsys.readouterr().out
    assert "REST API warmed up" in out
    rendered = [line for line in out.splitlines() if "Search app rendered" in line]
    assert rendered and " a search with 5 results in " in rendered[0]  # the 5 documents
