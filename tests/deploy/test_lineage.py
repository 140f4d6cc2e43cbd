"""Lineage end to end: a logged answer (its query id) back to the index version, the encoder,
the MLflow run, the Dagster run, and the files and content hashes it came from; a version
promoted to prod is followed back to the dev build it came from."""

from __future__ import annotations

import hashlib
import json

import dagster as dg
import pytest

from app.cli import main
from dagster_project.assets import INDEX_ASSETS
from lifecycle.environments import promote_to
from lifecycle.feedback import FeedbackStore, search_and_log
from lifecycle.lineage import LineageError, trace, version_links
from lifecycle.registry import CHAMPION, Registry
from lifecycle.serving import LoadedIndexes, resolve_serving
from search.settings import Settings


def _ask(settings: Settings, query: str) -> int:
    """A search as the app makes it: on the served index, logged with what was shown."""
    served = resolve_serving(settings)
    store = FeedbackStore(settings.feedback_url)
    try:
        query_id, _ = search_and_log(
            LoadedIndexes().index(served), store, query, "session-1", served.version, k=3
        )
    finally:
        store.close()
    return query_id


@pytest.fixture
def built(resources, docsearch):
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(INDEX_ASSETS, resources=resources, instance=instance)
    assert result.success
    return docsearch.settings(), result.run_id


@pytest.mark.slow
def test_an_answer_traces_back_to_its_files_index_runs_and_dagster_run(
    built, labeled_folder, capsys
):
    settings, dagster_run = built
    query_id = _ask(settings, "vpn error 809")
    lineage = trace(settings, query_id)

    assert lineage.query["text"] == "vpn error 809" and lineage.query["source"] == "search"
    top = lineage.results[0]
    assert (top["rank"], top["doc_id"], top["chunk_id"]) == (1, "d2.txt", "d2.txt#0")
    raw = (labeled_folder / "docs" / "d2.txt").read_bytes()
    assert top["path"] == "d2.txt" and top["content_hash"] == hashlib.sha256(raw).hexdigest()
    assert (
        lineage.index["version"]
        == Registry.from_settings(settings).alias(CHAMPION).tags["docsearch.index_version"]
    )
    assert lineage.index["model"]["id"] == "hashing-128" and "dense.faiss" in lineage.index["files"]
    (run,) = lineage.runs
    champion = Registry.from_settings(settings).alias(CHAMPION)
    assert run["run_id"] == champion.run_id and run["registered"] == "docsearch-index v1 (champion)"
    assert run["gate"]["gate.decision"] == "promote"
    assert (
        run["url"]
        == f"http://127.0.0.1:5000/#/experiments/{run['experiment_id']}/runs/{run['run_id']}"
    )
    assert lineage.dagster_run == {
        "run_id": dagster_run,
        "url": f"http://127.0.0.1:3000/runs/{dagster_run}",
    }
    assert version_links(settings, lineage.index["version"]) == {
        "MLflow run": run["url"],
        "Dagster run": lineage.dagster_run["url"],
    }

    assert main(["lineage", str(query_id)]) == 0
    text = capsys.readouterr().out
    assert f"content sha256 {top['content_hash']}" in text and f"Dagster run {dagster_run}" in text
    assert main(["lineage", str(query_id), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"][0]["run_id"] == champion.run_id
    assert main(["lineage", "999"]) == 2
    with pytest.raises(LineageError, match="no query 999"):
        trace(settings, 999)


@pytest.mark.slow
def test_a_prod_answer_traces_back_through_the_promotion_to_the_dev_build(
    built, tmp_path, labeled_folder, monkeypatch
):
    dev, dagster_run = built
    prod = Settings.from_profile(
        "prod", home=str(tmp_path / "prod"), docs=dev.docs, sample_set=dev.sample_set
    )
    done = promote_to(dev, "champion", prod, by="alice")
    assert done.promoted
    query_id = _ask(prod, "password length")  # the prod serving home fetched its own copy
    lineage = trace(prod, query_id)
    assert lineage.results[0]["doc_id"] == "d5.txt" and lineage.results[0]["content_hash"]
    assert lineage.index["folder"].startswith(str(prod.models_dir))
    promotion, build = lineage.runs
    assert promotion["registered"] == "docsearch-index-prod v1 (champion)"
    assert promotion["tags"]["docsearch.promotion.by"] == "alice"
    assert build["run_id"] == Registry.from_settings(dev).alias(CHAMPION).run_id
    assert lineage.dagster_run["run_id"] == dagster_run  # the build that made it, in dev
    # at dev's Dagster UI, as the build recorded it (prod's UI does not know dev's runs)
    assert build["tags"]["docsearch.dagster_url"] == lineage.dagster_run["url"]
    assert promotion["name"] == "promotion of docsearch-index v1 from dev"


def test_result_details_link_to_the_runs_escaped():
    from app.render import lineage_html

    links = {"MLflow run": 'http://m/#/experiments/1/runs/a"b', "Dagster run": "http://d/runs/x"}
    out = lineage_html(links, 42)
    assert out.count('target="_blank"') == 2 and "query 42" in out
    assert 'href="http://m/#/experiments/1/runs/a&quot;b"' in out  # no way out of the attribute
    assert lineage_html({}, 42) == ""
