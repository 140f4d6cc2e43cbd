"""A canary through the store and the MLflow registry: the new champion answers a share of the
searches, the previous one the rest; when people stop clicking the new one's top results it is
rolled back automatically (champion alias moved back, the reason tagged), and a healthy canary
passes."""

from __future__ import annotations

import pytest

from lifecycle.experiments import CHALLENGER_SIDE, CHAMPION_SIDE, ExperimentStore, LiveExperiment
from lifecycle.experiments.canary import CanaryLimits, check, start_canary
from lifecycle.registry import CHAMPION, Registry
from tests.access.conftest import PEOPLE, access_home, built_corpus  # noqa: F401
from tests.lifecycle.test_experiments_live import _register

# latency on a machine shared with other jobs is not what these tests are about
LIMITS = CanaryLimits(min_queries=30, latency_ratio=10.0)


@pytest.fixture
def canary_home(access_home):  # noqa: F811
    """v1 the previous champion, v2 (the same index, written again) the new one, and a
    canary giving v2 half the searches."""
    settings, store, version = access_home
    registry = Registry.from_settings(settings)
    v1 = _register(registry, store.path(version))
    registry.make_champion(v1)
    again = store.write(store.load(version), activate=False)
    v2 = _register(registry, store.path(again))
    registry.make_champion(v2)
    records = ExperimentStore(settings.feedback_url)
    experiment = start_canary(records, registry, v1, v2, share=0.5)
    yield settings, store, registry, records, experiment
    records.close()


def _traffic(settings, store, records, experiment, clicks_on_new: bool, n: int = 80):
    """``n`` searches through the search service during the canary; people click the first
    result of the previous champion's answers, and of the new one's only if ``clicks_on_new``."""
    from lifecycle.access import current_policy, enforce
    from lifecycle.documents import search_as
    from lifecycle.feedback import FeedbackStore

    policy = current_policy(settings).policy
    live = LiveExperiment(
        experiment, 0.5, enforce(store.load(experiment.champion_version), policy), records
    )
    new = enforce(store.load(experiment.challenger_version), policy)
    feedback = FeedbackStore(settings.feedback_url)
    answered_by = []
    for i in range(n):
        page = search_as(
            new, feedback, PEOPLE["carl"], "quarterly report vpn", session_id=f"s{i}",
            version=experiment.challenger_version, k=5, experiment=live,
        )  # fmt: skip
        answered_by.append(page.index_version)
        if page.index_version == experiment.champion_version or clicks_on_new:
            first = page.results[0]
            feedback.log_click(page.query_id, first.doc_id, first.rank, session_id=f"s{i}")
    feedback.close()
    return answered_by


def test_a_canary_that_loses_its_clicks_is_rolled_back(canary_home):
    settings, store, registry, records, experiment = canary_home
    answered_by = _traffic(settings, store, records, experiment, clicks_on_new=False)
    counts = records.arm_counts(experiment.id)
    # each search went to one side, logged under the version that answered it
    assert counts[CHAMPION_SIDE] + counts[CHALLENGER_SIDE] == 80
    assert answered_by.count(experiment.challenger_version) == counts[CHALLENGER_SIDE] >= 30
    verdict = check(records, registry, experiment.id, LIMITS)
    # click-through at top 3: 1.0 on the previous champion, 0.0 on the new one
    assert verdict.state == "rolled back" and "ctr_at_3 1.000 -> 0.000" in verdict.experiment.reason
    assert verdict.degraded["abandonment"]["after"] == 1.0
    # the registry: champion back on v1, the reason tagged on v2 (run and model version)
    assert str(registry.alias(CHAMPION).version) == experiment.champion_registered
    v2 = registry.version(experiment.challenger_registered)
    assert v2.tags["canary.state"] == "rolled back"
    assert v2.tags["canary.reason"].startswith("rolled back: ctr_at_3")
    assert registry.client.get_run(v2.run_id).data.tags["canary.state"] == "rolled back"
    assert records.get(experiment.id).state == "rolled back"
    assert store.current() == experiment.champion_version  # what serves locally too


def test_a_healthy_canary_passes_and_keeps_the_new_champion(canary_home):
    settings, store, registry, records, experiment = canary_home
    _traffic(settings, store, records, experiment, clicks_on_new=True)
    verdict = check(records, registry, experiment.id, LIMITS)
    assert verdict.state == "passed" and verdict.degraded == {}
    assert str(registry.alias(CHAMPION).version) == experiment.challenger_registered


def test_a_canary_waits_for_enough_queries(canary_home):
    settings, store, registry, records, experiment = canary_home
    _traffic(settings, store, records, experiment, clicks_on_new=False, n=10)
    assert check(records, registry, experiment.id, LIMITS).state == "keep collecting"
    assert records.get(experiment.id).running
