"""``apply_policy`` when the MLflow registry serves: the version enforcing the policy is
registered with its parent's evaluations, passes the gate (its ranking is the parent's) and
becomes the champion; the local CURRENT follows."""

from __future__ import annotations

import pytest

from evaluation import Evaluation
from lifecycle.access import DERIVED_FROM_TAG, POLICY_HASH_TAG, apply_policy, recorded_hash
from lifecycle.registry import CHAMPION, Registry, resolve_champion
from search.index import read_manifest
from tests.access.conftest import POLICY


@pytest.mark.slow
def test_apply_policy_promotes_through_the_registry(own_access_home):
    settings, store, version = own_access_home
    registry = Registry.from_settings(settings)
    path = store.path(version)
    sample = Evaluation({"ndcg_at_10": 0.8, "recall_at_100": 1.0, "mrr_at_10": 0.8}, {})
    run_id = registry.log_build(path, read_manifest(path), {"sample": sample}, {"chunks": 8})
    first = str(registry.register(run_id, path).version)
    assert registry.settle(first).champion == first

    # the policy changes after the build: the champion does not record it yet
    settings.access_policy.write_text(POLICY.replace("allow: [group:hr]", "allow: []"))
    applied = apply_policy(settings)
    assert applied.served == version and applied.version != version
    champion = registry.alias(CHAMPION)
    assert str(champion.version) != first  # the new version holds the alias now
    assert applied.outcome.startswith(
        f"registered as docsearch-index v{champion.version}; gate: promote ("
    )
    assert resolve_champion(settings).path == store.path(applied.version)
    assert store.current() == applied.version
    assert recorded_hash(store.path(applied.version)) == applied.status.hash
    run = registry.client.get_run(champion.run_id)
    assert run.data.tags[POLICY_HASH_TAG] == applied.status.hash
    assert run.data.tags[DERIVED_FROM_TAG] == version
    assert run.data.metrics["sample/ndcg_at_10"] == 0.8  # the parent's evaluation, carried over
    assert apply_policy(settings).outcome == "already enforced"
