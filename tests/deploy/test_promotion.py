"""dev -> prod: a version proved in dev reaches prod only through prod's gate, evaluated again
on prod's labeled queries; the prod run records who, when, from where and on which evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from lifecycle.environments import PROMOTION_ARTIFACT, policy_for, promote_to
from lifecycle.gate import GatePolicy
from lifecycle.registry import CHALLENGER, CHAMPION, Registry
from search.config import IndexConfig
from search.encoding import HashingEncoder
from search.index import IndexStore, SearchIndex
from search.ingest import load_folder
from search.settings import Settings
from tests.deploy.builds import register

POLICY = GatePolicy(floor=0.5, tolerance=0.01)


def _profiles(tmp_path: Path, labeled: Path, mlflow_uri: str = "") -> Path:
    """dev, prod (the fixture's queries) and strict (the same queries, wrong answers)."""
    wrong = tmp_path / "wrong-labels"
    (wrong / "qrels").mkdir(parents=True)
    (wrong / "queries.jsonl").write_text((labeled / "queries.jsonl").read_text())
    # each query's relevant document is the next one's: the index ranks them low
    rows = [f"q{i}\td{i % 5 + 1}.txt\t1" for i in range(1, 6)]
    (wrong / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(rows))
    (wrong / "docs").symlink_to(labeled / "docs")
    common = f'model = "hashing-128"\ndocs = "{labeled / "docs"}"\n'
    if mlflow_uri:  # one server for the session's tests: each test's models of its own
        common += f'mlflow_uri = "{mlflow_uri}"\n'
    tables = [("dev", labeled, ""), ("prod", labeled, "gate_floor = 0.9\n")]
    tables.append(("strict", wrong, "gate_floor = 0.9\n"))
    path = tmp_path / "docsearch.toml"
    text = ""
    for env, labels, extra in tables:
        model = f'registry_model = "{env}-{tmp_path.name[-20:]}"\n' if mlflow_uri else ""
        text += (
            f'[profiles.{env}]\nhome = "{env}"\nsample_set = "{labels}"\n{extra}{common}{model}\n'
        )
    path.write_text(text)
    return path


def _dev_version(dev: Settings, ndcg: float) -> str:
    """Build the fixture folder's index in dev and register it with a given dev nDCG@10."""
    documents = load_folder(dev.docs).documents
    index = SearchIndex.build(documents, IndexConfig(model="hashing-128"), HashingEncoder(dim=128))
    store = IndexStore(dev.index_root())
    return register(dev, store.path(store.write(index, activate=False)), ndcg)


@pytest.fixture(params=["separate SQLite stores", "embedded", "services"])
def envs(request, tmp_path, labeled_folder, monkeypatch):
    """dev and prod in separate SQLite stores, or sharing one tracking server of an engine."""
    uri = ""
    if request.param != "separate SQLite stores":
        uri = request.getfixturevalue("tracking_server")(request.param).uri
    path = _profiles(tmp_path, labeled_folder, uri)
    monkeypatch.setenv("DOCSEARCH_CONFIG", str(path))
    for name in ("DOCSEARCH_HOME", "MLFLOW_TRACKING_URI", "DOCSEARCH_ENV", "DOCSEARCH_DOCS"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_profile("dev", path), Settings.from_profile("prod", path), path


@pytest.mark.slow
def test_a_version_proved_in_dev_is_promoted_to_prod_with_its_evidence(envs):
    dev, prod, _ = envs
    v = _dev_version(dev, 0.95)
    assert Registry.from_settings(dev).promote(v, POLICY)[1]  # proved in dev

    done = promote_to(dev, v, prod, by="alice", policy=policy_for(prod))
    # prod evaluates again on its own queries: each has its one relevant file at rank 1
    assert done.promoted and done.decision.value == pytest.approx(1.0)
    assert done.decision.floor == 0.9  # prod's gate, from its profile
    target = Registry.from_settings(prod)
    # prod's own model: docsearch-index-prod, or the one its profile names
    assert target.model_name == (prod.registry_model or "docsearch-index-prod")
    assert done.target == f"{target.model_name} v1"
    assert str(target.alias(CHAMPION).version) == "1"
    run = target.client.get_run(done.run_id)
    tags = run.data.tags
    assert tags["docsearch.promotion.by"] == "alice"
    assert tags["docsearch.promotion.from_env"] == "dev"
    source = Registry.from_settings(dev)
    assert tags["docsearch.promotion.from_version"] == f"{source.model_name} v{v}"
    assert tags["docsearch.reason"] == f"promoted from dev ({source.model_name} v{v})"
    assert tags["docsearch.alias"] == CHAMPION
    assert tags["gate.decision"] == "promote" and tags["gate.floor"] == "0.9000"
    assert json.loads(tags["docsearch.promotion.source_metrics"])["sample/ndcg_at_10"] == 0.95
    assert run.data.metrics["sample/ndcg_at_10"] == pytest.approx(1.0)  # prod's own figure
    evidence = target.client.download_artifacts(done.run_id, PROMOTION_ARTIFACT)
    recorded = json.loads(Path(evidence).read_text())
    assert recorded["at"] == tags["docsearch.promotion.at"] and recorded["gate"]["promoted"]
    dev_run = source.client.get_run(source.version(v).run_id)
    assert dev_run.data.tags["docsearch.promoted_to.prod"] == f"{target.model_name} v1 promote"
    # dev's champion is untouched; prod's serving home fetches prod's own copy
    assert str(source.alias(CHAMPION).version) == v


@pytest.mark.slow
def test_prods_own_queries_can_refuse_what_dev_proved(envs):
    dev, _, path = envs
    strict = Settings.from_profile("strict", path)
    v = _dev_version(dev, 0.95)
    Registry.from_settings(dev).promote(v, POLICY)
    done = promote_to(dev, v, strict, by="bob", policy=policy_for(strict))
    assert not done.promoted and "below the floor 0.9000" in done.decision.reason
    target = Registry.from_settings(strict)
    assert target.alias(CHAMPION) is None and str(target.alias(CHALLENGER).version) == "1"
    assert target.client.get_run(done.run_id).data.tags["gate.decision"] == "reject"


def test_only_a_proved_version_leaves_dev_and_the_cli_says_why(envs, capsys, monkeypatch):
    dev, prod, _ = envs
    v = _dev_version(dev, 0.3)
    Registry.from_settings(dev).promote(v, POLICY)  # below dev's floor: rejected there
    with pytest.raises(ValueError, match="was not proved in dev .*promote it there first"):
        promote_to(dev, v, prod, by="carol")
    assert main(["promote", v, "--to", "prod"]) == 2
    assert "was not proved in dev" in capsys.readouterr().err
    assert main(["promote", v, "--to", "qa"]) == 2  # no such profile: one line
    assert "no profile 'qa'" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["promote", v, "--to", "prod", "--force", "--by", "dave", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["by"] == "dave" and out["proved_in_source"] is False and out["promoted"]
