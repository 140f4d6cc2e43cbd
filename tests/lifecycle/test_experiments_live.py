"""A real interleaved experiment on the access corpus: searches through the app's search
service (``search_as``) and the REST API answered with the team-draft interleaving of the
champion and a challenger, each shown result remembering the version that contributed it,
clicks becoming per-version credit, both rankings restricted to what the reader may read; then
the sequential test decides, the registry's champion moves, and MLflow records the evidence."""

from __future__ import annotations

import itertools

import pytest

from lifecycle.experiments import (
    BETTER,
    CHALLENGER_SIDE,
    CHAMPION_SIDE,
    ExperimentStore,
    LiveExperiment,
    SequentialPolicy,
    decide,
    report,
    start_interleaving,
    stop,
)
from lifecycle.registry import CHAMPION, Registry
from search.config import IndexConfig
from search.index import IndexStore, read_manifest
from tests.access.conftest import MAY_READ, PEOPLE, access_home, built_corpus  # noqa: F401
from tests.api.conftest import api, auth  # noqa: F401


def _register(registry: Registry, path, ndcg: float = 0.9) -> str:
    """Log and register an index version with a made-up sample nDCG@10 (no gate reads it but
    the one test that says so)."""
    from evaluation.metrics import Evaluation

    sample = Evaluation({"ndcg_at_10": ndcg}, {"q1": {"ndcg_at_10": ndcg}})
    run = registry.log_build(path, read_manifest(path), {"sample": sample}, {"chunks": 8})
    return str(registry.register(run, path).version)


@pytest.fixture
def experiment_home(access_home):  # noqa: F811
    """The access corpus's version as champion v1 and a BM25-leaning rebuild as challenger v2,
    registered; an interleaving of them on every search (share 1)."""
    from search.encoding import HashingEncoder
    from search.index import SearchIndex
    from search.ingest import load_folder

    settings, store, version = access_home
    registry = Registry.from_settings(settings)
    v1 = _register(registry, store.path(version))
    registry.make_champion(v1)
    config = IndexConfig(model="hashing-128", chunk_tokens=64, chunk_overlap=8, dense_weight=0.0)
    challenger = SearchIndex.build(
        load_folder(settings.docs).documents, config, HashingEncoder(128)
    )
    other = store.write(challenger, activate=False)
    v2 = _register(registry, store.path(other))
    records = ExperimentStore(settings.feedback_url)
    experiment = start_interleaving(
        records, registry, v2, share=1.0, policy=SequentialPolicy(min_win=0.6, max_queries=100)
    )  # a test built for a large gain (60% wins), so a few clicks decide it
    yield settings, store, registry, records, experiment
    records.close()


def _live(settings, records, experiment, store: IndexStore) -> LiveExperiment:
    from lifecycle.access import current_policy, enforce

    policy = current_policy(settings).policy
    other = enforce(store.load(experiment.challenger_version), policy)
    return LiveExperiment(experiment, 1.0, other, records)


def test_the_app_service_interleaves_both_versions_within_what_the_reader_may_read(
    experiment_home,
):
    from lifecycle.access import current_policy, enforce
    from lifecycle.documents import search_as
    from lifecycle.feedback import FeedbackStore

    settings, store, registry, records, experiment = experiment_home
    live = _live(settings, records, experiment, store)
    champion = enforce(store.load(experiment.champion_version), current_policy(settings).policy)
    feedback = FeedbackStore(settings.feedback_url)
    seen_sides = set()
    for person in ("fred", "carl", "ann"):
        page = search_as(
            champion, feedback, PEOPLE[person], "quarterly report", session_id=f"s-{person}",
            version=experiment.champion_version, k=8, experiment=live,
        )  # fmt: skip
        shown = [r.doc_id for r in page.results]
        # the reader sees one ordinary list: every document at most once, ranks 1..n, and only
        # what they may read, whichever version contributed it
        assert [r.rank for r in page.results] == list(range(1, len(shown) + 1))
        assert len(set(shown)) == len(shown) and set(shown) == MAY_READ[person]
        assert page.index_version == experiment.champion_version
        sides = dict(
            records.engine.connect()
            .execute(
                __import__("sqlalchemy").text(
                    "SELECT rank, side FROM experiment_shown WHERE query_id = :q"
                ),
                {"q": page.query_id},
            )
            .all()
        )
        assert sorted(sides) == list(range(1, len(shown) + 1))
        # team draft: the sides take turns, so their counts differ by at most one
        counts = [list(sides.values()).count(s) for s in (CHAMPION_SIDE, CHALLENGER_SIDE)]
        assert abs(counts[0] - counts[1]) <= 1
        seen_sides |= set(sides.values())
    assert seen_sides == {CHAMPION_SIDE, CHALLENGER_SIDE}
    assert records.arm_counts(experiment.id) == {"interleaved": 3}
    feedback.close()


def test_clicks_through_the_api_become_credit_and_the_test_promotes_the_winner(
    experiment_home,
    api,  # noqa: F811
):
    client, tokens, _ = api
    settings, store, registry, records, experiment = experiment_home
    sql = __import__("sqlalchemy").text
    clicked_sides = []
    # people click only what the challenger contributed: it wins every decided query
    for n in itertools.count():
        answer = client.get(
            "/v1/search", params={"q": "quarterly report", "k": 6}, headers=auth(tokens["bea"])
        ).json()
        assert {r["doc_id"] for r in answer["results"]} <= MAY_READ["bea"]
        with records.engine.connect() as conn:
            sides = dict(
                conn.execute(
                    sql("SELECT rank, side FROM experiment_shown WHERE query_id = :q"),
                    {"q": answer["query_id"]},
                ).all()
            )
        pick = next(r for r in answer["results"] if sides[r["rank"]] == CHALLENGER_SIDE)
        made = client.post(
            "/v1/feedback",
            json={"kind": "click", "query_id": answer["query_id"], "doc_id": pick["doc_id"]},
            headers=auth(tokens["bea"]),
        )
        assert made.status_code == 201
        clicked_sides.append(sides[pick["rank"]])
        decision = decide(records, registry, experiment.id).decision
        if decision.state != "keep collecting" or n > 40:
            break
    # ln(1/0.05) = 2.996 and each challenger win adds ln(0.6/0.5) = 0.1823: the 17th win
    # (17 x 0.1823 = 3.099) crosses it
    assert decision.state == BETTER and (decision.wins, decision.losses) == (17, 0)
    ended = records.get(experiment.id)
    assert ended.state == BETTER and "won 17 and lost 0" in ended.reason
    outcomes = records.outcomes(experiment.id)
    assert [o.credits for o in outcomes] == [{CHAMPION_SIDE: 0, CHALLENGER_SIDE: 1}] * 17
    # the registry: the challenger is champion now, tagged with why; its MLflow run holds the
    # online figures beside the offline ones
    champion = registry.alias(CHAMPION)
    assert str(champion.version) == experiment.challenger_registered
    assert champion.tags["online.state"] == BETTER
    run = registry.client.get_run(champion.run_id)
    assert run.data.metrics["online/wins"] == 17 and run.data.metrics["online/losses"] == 0
    assert run.data.tags["online.experiment"] == str(experiment.id)
    assert report(records, ended).as_dict()["evidence_state"] == BETTER
    with pytest.raises(ValueError, match="already ended"):
        stop(records, registry, experiment.id, by="root")


def test_a_challenger_that_passes_offline_waits_for_an_online_win(access_home):  # noqa: F811
    from lifecycle.experiments import OnlineGate
    from lifecycle.gate import GatePolicy
    from lifecycle.registry import CHALLENGER

    settings, store, version = access_home
    registry = Registry.from_settings(settings)
    v1 = _register(registry, store.path(version))
    registry.make_champion(v1)
    v2 = _register(registry, store.path(store.write(store.load(version), activate=False)))
    prod = settings.model_copy(
        update={"online_win_required": True, "interleave_share": 0.2, "canary_share": 0.1}
    )
    gate = OnlineGate.of(prod)
    # the offline gate passes (no floor, nothing to regress), but the environment holds it
    decision, promoted = registry.promote(v2, GatePolicy(floor=0.0), hold=gate.required)
    assert decision.promote and not promoted
    assert str(registry.alias(CHAMPION).version) == v1
    assert str(registry.alias(CHALLENGER).version) == v2
    assert registry.version(v2).tags["online.state"] == "awaiting an online win"
    experiment = gate.start(registry, v2)
    assert (experiment.kind, experiment.share, experiment.state) == ("interleaving", 0.2, "running")
    assert (experiment.champion_registered, experiment.challenger_registered) == (v1, v2)
    assert experiment.parameters["canary_share"] == 0.1 and experiment.parameters["alpha"] == 0.05
    # an online win would make v2 champion and start its canary (here: after the promotion)
    canary = gate.after_promotion(registry, v1, v2)
    assert (canary.kind, canary.share, canary.champion_registered) == ("canary", 0.1, v1)
    records = ExperimentStore(settings.feedback_url)
    assert {e.kind for e in records.running()} == {"interleaving", "canary"}
    records.close()


def test_the_experiments_command_lists_shows_and_stops(experiment_home, home, capsys):
    import json

    from app.cli import main

    settings, store, registry, records, experiment = experiment_home
    assert settings.home == home  # the command reads the same home from DOCSEARCH_HOME
    assert main(["experiments", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["state"], listed["interleaved_queries"]) == (
        experiment.id, "running", 0,
    )  # fmt: skip
    assert listed["challenger"] == f"v{experiment.challenger_registered}"
    assert "Wald SPRT" in listed["test"] and listed["evidence_state"] == "keep collecting"
    assert main(["experiments", "stop", str(experiment.id), "--by", "root"]) == 0
    assert "stopped by root" in capsys.readouterr().out
    assert records.get(experiment.id).state == "stopped"
    assert registry.version(experiment.challenger_registered).tags["online.state"] == "stopped"
    assert main(["experiments", "stop", str(experiment.id)]) == 2
    assert "already ended (stopped)" in capsys.readouterr().err
    assert main(["experiments", "show", "99"]) == 2
    assert (
        capsys.readouterr().err.strip() == "error: no experiment 99; `docsearch experiments list`"
    )
