"""MLflow runs that explain themselves, whichever path built the version: ``docsearch build
--register`` and ``index_job`` both leave a run that says why the version exists, the access
policy it enforces, and build counts that add up (embedded + reused = chunks); the runs table
marks the champion's run, and the mark moves with the alias."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from app.cli import main
from dagster_project.assets import INDEX_ASSETS
from lifecycle.access import current_policy
from lifecycle.registry import CHAMPION, Registry
from lifecycle.registry.names import (
    ALIAS_TAG,
    CHAMPION_SINCE_TAG,
    POLICY_HASH_TAG,
    REASON_DETAIL_TAG,
    REASON_TAG,
)
from lifecycle.registry.reasons import DOCUMENTS, FIRST, POLICY
from search.index import read_manifest

ONLY_HR = "default: [everyone]\nrules:\n  - path: d6.txt\n    allow: [group:hr]\n"
ONLY_FINANCE = ONLY_HR.replace("group:hr", "group:finance")


def _run(registry: Registry, number: str):
    return registry.client.get_run(registry.version(number).run_id)


def _adds_up(run) -> None:
    metrics = run.data.metrics
    assert metrics["chunks_embedded"] + metrics["chunks_reused"] == metrics["chunks"] > 0


@pytest.mark.slow
def test_cli_and_index_job_runs_say_why_which_policy_and_what_was_encoded(
    docsearch, resources, labeled_folder, capsys, monkeypatch
):
    settings = docsearch.settings()
    docs = labeled_folder / "docs"
    (docs / "access.yaml").write_text(ONLY_HR)
    for name, value in {
        "DOCSEARCH_DOCS": docs,
        "DOCSEARCH_MODEL": "hashing-128",
        "DOCSEARCH_SAMPLE_SET": labeled_folder,
        "DOCSEARCH_GATE_FLOOR": "0.5",
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("DOCSEARCH_EVAL_SCIFACT", raising=False)
    registry = Registry.from_settings(settings)

    # 1. the command line: the first version, 6 documents of one chunk, all encoded
    assert main(["build", "--register", "--json"]) == 0
    built = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert built["gate"]["registered"] == "v1" and built["gate"]["outcome"] == "promote"
    cli = _run(registry, "1")
    assert cli.data.tags[REASON_TAG] == FIRST
    assert (cli.data.metrics["chunks_embedded"], cli.data.metrics["chunks"]) == (6, 6)
    _adds_up(cli)
    recorded = (read_manifest(built["path"]).get("access") or {}).get("policy_hash")
    # the hash of the policy of the folder the version was built from, as the version records it
    assert recorded == current_policy(settings).hash
    assert cli.data.tags[POLICY_HASH_TAG] == recorded
    assert cli.data.tags[ALIAS_TAG] == CHAMPION

    # 2. index_job after the policy changed: the same chunks and vectors under a new policy
    (docs / "access.yaml").write_text(ONLY_FINANCE)
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(INDEX_ASSETS, resources=resources, instance=instance)
        assert result.success
        (logged,) = [
            m.materialization.metadata
            for m in result.get_asset_materialization_events()
            if m.asset_key.to_user_string() == "mlflow_run"
        ]
        assert logged["reason"].value == POLICY  # the Dagster UI says it too
        policy_only = _run(registry, "2")
        assert policy_only.data.tags[REASON_TAG] == POLICY  # nothing else differs
        assert policy_only.data.tags[POLICY_HASH_TAG] == current_policy(settings).hash
        detail = policy_only.data.tags[REASON_DETAIL_TAG]
        assert detail.startswith(f"compared with {registry.model_name} v1; {POLICY}: ")
        # nothing encoded: 0 + 6 = 6 (it said 0 and 0 before)
        assert policy_only.data.metrics["chunks_embedded"] == 0
        _adds_up(policy_only)

        # 3. index_job after a document changed: one chunk encoded, five reused (1 + 5 = 6)
        with open(docs / "d3.txt", "a") as fh:
            fh.write("Keep the receipts for seven years.\n")
        assert dg.materialize(INDEX_ASSETS, resources=resources, instance=instance).success
    changed = _run(registry, "3")
    assert changed.data.tags[REASON_TAG] == DOCUMENTS
    assert changed.data.tags[POLICY_HASH_TAG] == current_policy(settings).hash
    metrics = changed.data.metrics
    assert (metrics["chunks_embedded"], metrics["chunks_reused"]) == (1, 5)

    # the champion is marked on its run only, and says since when
    assert str(registry.alias(CHAMPION).version) == "3"
    marked = {
        n: registry.client.get_run(registry.version(n).run_id).data.tags.get(ALIAS_TAG)
        for n in ("1", "2", "3")
    }
    assert marked == {"1": None, "2": None, "3": CHAMPION}
    assert (
        registry.version("3").tags[CHAMPION_SINCE_TAG]
        >= registry.version("2").tags[CHAMPION_SINCE_TAG]
    )
