"""`make run`'s launcher for real: it builds and promotes the first index, then the Dagster UI
shows the asset graph and the MLflow UI shows the run and the champion, in headless Chromium."""

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
_spec = importlib.util.spec_from_file_location(
    "_root_conftest", Path(__file__).parent / "conftest.py"
)
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)  # tests/conftest.py and tests/*/conftest.py share a module name


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture
def launcher(home, tmp_path):
    """scripts/serve.py on free ports with a fresh DOCSEARCH_HOME; stopped with SIGINT (Ctrl-C)."""
    ports = {
        "DOCSEARCH_DAGSTER_PORT": helpers.free_port(),
        "DOCSEARCH_MLFLOW_PORT": helpers.free_port(),
        "DOCSEARCH_APP_PORT": helpers.free_port(),
        "DOCSEARCH_API_PORT": helpers.free_port(),
    }
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "DAGSTER_HOME")}
    env |= {k: str(v) for k, v in ports.items()}
    env |= {"DOCSEARCH_HOME": str(home), "DOCSEARCH_MODEL": "hashing-128"}
    env.pop("DOCSEARCH_DOCS", None)  # the sample corpus, as `make run` indexes it
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "scripts/serve.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    urls = {
        "dagster": f"http://127.0.0.1:{ports['DOCSEARCH_DAGSTER_PORT']}",
        "mlflow": f"http://127.0.0.1:{ports['DOCSEARCH_MLFLOW_PORT']}",
    }
    try:
        yield proc, urls, tmp_path / "serve.log"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.mark.slow
@pytest.mark.browser
def test_dagster_and_mlflow_uis_show_the_graph_and_the_run(launcher, browser_page):
    proc, urls, log = launcher
    try:
        # index_job first (a few seconds with the hashing encoder), then `dagster dev` (20-60 s)
        helpers.wait_for_http(urls["dagster"] + "/server_info", timeout=300, proc=proc)
        helpers.wait_for_http(urls["mlflow"] + "/health", timeout=120, proc=proc)
    except (RuntimeError, TimeoutError) as exc:
        raise AssertionError(f"{exc}\n--- serve.py output ---\n{log.read_text()[-4000:]}") from exc
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser_page

    # Dagster: the four groups on the lineage page, then each group's graph with its assets
    page.goto(urls["dagster"] + "/asset-groups", wait_until="domcontentloaded")
    for group in ("ingestion", "indexing", "evaluation", "registry"):
        page.get_by_text(group, exact=True).first.wait_for(timeout=120_000)
    skip = page.get_by_role("button", name="Skip")  # Dagster's first-visit newsletter dialog
    if skip.count():
        skip.first.click()
    page.screenshot(path=str(ARTIFACTS / "dagster-lineage.png"))
    graphs = {
        "ingestion": ("source_documents", "parse_report"),
        "indexing": ("chunks", "embeddings", "index_version"),
        "registry": ("mlflow_run", "registered_version", "champion_alias"),
    }
    for group, assets in graphs.items():
        page.goto(urls["dagster"] + f"/locations/dagster_project/asset-groups/{group}/lineage")
        for asset in assets:
            page.get_by_text(asset, exact=True).first.wait_for(timeout=90_000)
        page.get_by_text("Materialized").first.wait_for(timeout=30_000)  # index_job ran
        page.screenshot(path=str(ARTIFACTS / f"dagster-{group}.png"))

    # MLflow: the experiment lists the build's run; the registry shows the champion alias
    experiment = _get_json(
        urls["mlflow"] + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=docsearch"
    )["experiment"]
    search = urllib.request.Request(
        urls["mlflow"] + "/api/2.0/mlflow/runs/search",
        data=json.dumps({"experiment_ids": [experiment["experiment_id"]]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(search, timeout=10) as resp:
        runs = json.loads(resp.read())
    (run,) = runs["runs"]
    run_name = run["info"]["run_name"]
    assert any(m["key"] == "sample/ndcg_at_10" for m in run["data"]["metrics"])
    page.goto(urls["mlflow"] + f"/#/experiments/{experiment['experiment_id']}/runs")
    page.get_by_text(run_name).first.wait_for(timeout=90_000)
    page.screenshot(path=str(ARTIFACTS / "mlflow-runs.png"), full_page=True)
    page.goto(urls["mlflow"] + "/#/models/docsearch-index")
    page.get_by_text(re.compile(r"^@\s*champion$")).first.wait_for(timeout=90_000)  # alias chip
    page.screenshot(path=str(ARTIFACTS / "mlflow-model.png"), full_page=True)

    # Ctrl-C stops every service the launcher started
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    for url in urls.values():
        with pytest.raises(OSError):
            urllib.request.urlopen(url, timeout=3)
