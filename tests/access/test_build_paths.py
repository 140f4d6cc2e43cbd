"""The policy follows the documents it protects (issue 20): a version built from a folder with
its own ``access.yaml`` enforces that policy when it serves, whichever way it was built, while
DOCSEARCH_DOCS names another folder (here: the same files, and no policy at all).

Each build path gets the whole leakage matrix (``tests.access.leakage``)."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from app.cli.main import main
from search.access import parse_policy
from search.settings import Settings
from tests.access.conftest import DOCS, POLICY, write_docs
from tests.access.leakage import api_client, assert_no_leak

QUERIES = {"q1": "parental leave weeks", "q2": "board minutes losses", "q3": "vpn error 809"}
QRELS = {"q1": "hr/leave.md", "q2": "finance/board/minutes.md", "q3": "it/vpn.md"}


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """``DIR`` (the documents and their policy, inside a labeled set) and the environment of a
    home whose DOCSEARCH_DOCS is another folder holding the same files without a policy."""
    labeled = tmp_path / "labeled"
    docs = write_docs(labeled / "docs")
    (labeled / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in QUERIES.items())
    )
    (labeled / "qrels").mkdir()
    (labeled / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items())
    )
    elsewhere = write_docs(tmp_path / "elsewhere", policy=None)
    environment = {
        "DOCSEARCH_HOME": tmp_path / "home",
        "DOCSEARCH_DOCS": elsewhere,
        "DOCSEARCH_MODEL": "hashing-128",
        "DOCSEARCH_SAMPLE_SET": labeled,
        "DOCSEARCH_GATE_FLOOR": "0",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    for name in ("DOCSEARCH_ACCESS", "MLFLOW_TRACKING_URI", "DOCSEARCH_ENV"):
        monkeypatch.delenv(name, raising=False)
    return docs, labeled


def _serves_under_the_folders_policy(docs) -> None:
    settings = Settings.from_env()
    assert settings.docs != docs and not (settings.docs / "access.yaml").exists()
    with api_client(settings) as (client, tokens):
        info = client.get("/v1/index", headers={"Authorization": f"Bearer {tokens['ann']}"})
        assert info.json()["version_policy_hash"] == parse_policy(POLICY).hash
        assert_no_leak(client, tokens)


def test_docsearch_build_docs_dir(folders, capsys):
    docs, _ = folders
    assert main(["build", "--docs", str(docs), "--json"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["policy"] == {"file": str(docs / "access.yaml"), "hash": parse_policy(POLICY).hash}
    assert built["documents"] == len(DOCS) and built["activated"]
    _serves_under_the_folders_policy(docs)


@pytest.mark.slow
def test_docsearch_build_register(folders, capsys):
    docs, _ = folders
    assert main(["build", "--docs", str(docs), "--register", "--json"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["gate"]["outcome"] == "promote"  # the MLflow champion serves it
    _serves_under_the_folders_policy(docs)


@pytest.mark.slow
def test_index_job(folders):
    from dagster_project.assets import INDEX_ASSETS
    from dagster_project.resources import DocsearchSettings, make_resources

    docs, labeled = folders
    settings = Settings.from_env()
    resource = DocsearchSettings(docs=str(docs), sample_set=str(labeled), ndcg_floor=0.0)
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            INDEX_ASSETS,
            resources=make_resources(resource, settings.home / "dagster" / "storage"),
            instance=instance,
        )
    assert result.success
    _serves_under_the_folders_policy(docs)
