"""The training group: the feedback sensor, and one real turn of the loop through Dagster."""

import dagster as dg
import pytest

from dagster_project.assets import INDEX_ASSETS, TRAINING_ASSETS
from dagster_project.automation import feedback_sensor
from dagster_project.resources import DocsearchSettings, make_resources
from lifecycle.feedback import FeedbackStore, search_and_log
from lifecycle.registry import CHALLENGER, CHAMPION, Registry


def test_feedback_sensor_waits_for_enough_new_feedback(
    docsearch, monkeypatch, tiny_docs, hashing_encoder
):
    from search.config import IndexConfig
    from search.index import SearchIndex

    monkeypatch.setenv("DOCSEARCH_RETRAIN_MIN_FEEDBACK", "3")
    with dg.build_sensor_context() as context:
        assert "no index" in feedback_sensor(context, docsearch=docsearch).skip_message
    version = docsearch.store().write(
        SearchIndex.build(tiny_docs, IndexConfig(model="hashing-128"), hashing_encoder)
    )
    store = FeedbackStore(docsearch.settings().feedback_url)

    def log(index_version):
        return store.log_query(
            session_id="s",
            query="q",
            index_version=index_version,
            method="hybrid",
            latency_ms=1.0,
            results=[],
        )

    qid, elsewhere = log(version), log("another-index")
    store.log_click(qid, "d1", 1)
    store.log_vote(1, query_id=qid, doc_id="d1")
    store.log_click(elsewhere, "d9", 1)  # feedback on another index does not count
    store.log_vote(1, query_id=elsewhere, doc_id="d9")
    with dg.build_sensor_context() as context:
        assert isinstance(feedback_sensor(context, docsearch=docsearch), dg.SkipReason)
    store.log_click(qid, "d2", 2)
    with dg.build_sensor_context() as context:
        request = feedback_sensor(context, docsearch=docsearch)
        assert isinstance(request, dg.RunRequest)
        assert request.tags["docsearch/new_feedback"] == "3"
    with dg.build_sensor_context(cursor="3") as context:
        assert isinstance(feedback_sensor(context, docsearch=docsearch), dg.SkipReason)
    with dg.build_sensor_context(cursor="773,148") as context:  # an older cursor format
        assert "reset" in feedback_sensor(context, docsearch=docsearch).skip_message


@pytest.mark.slow
def test_one_turn_of_the_loop_through_dagster(home, labeled_folder, real_encoder):
    docsearch = DocsearchSettings(
        home=str(home),
        docs=str(labeled_folder / "docs"),
        model="all-MiniLM-L6-v2",
        sample_set=str(labeled_folder),
        ndcg_floor=0.5,
    )
    resources = make_resources(docsearch, home / "dagster" / "storage")
    with dg.DagsterInstance.ephemeral() as instance:
        assert dg.materialize(INDEX_ASSETS, resources=resources, instance=instance).success
        store = docsearch.store()
        champion_version = store.current()
        index = store.load()
        feedback = FeedbackStore(docsearch.settings().feedback_url)
        for text in (
            "parental leave weeks",
            "vpn error 809",
            "meal allowance travelling",
            "battery recalibration",
            "password length",
            "office closed christmas",
        ):
            qid, results = search_and_log(index, feedback, text, "s", champion_version, k=6)
            store_answer = {
                "parental": "d1.txt",
                "vpn": "d2.txt",
                "meal": "d3.txt",
                "battery": "d4.txt",
                "password": "d5.txt",
                "office": "d6.txt",
            }
            answer = store_answer[text.split()[0]]
            rank = next(r.rank for r in results if r.doc_id == answer)
            feedback.log_click(qid, answer, rank)
        config = {"epochs": 1, "batch_size": 4, "max_seq_length": 32, "validation_fraction": 0.4}
        result = dg.materialize(
            TRAINING_ASSETS,
            resources=resources,
            instance=instance,
            run_config={
                "ops": {
                    a.key.to_user_string(): {"config": config}
                    for a in TRAINING_ASSETS
                    if a.key.to_user_string() in ("training_pairs", "fine_tuned_encoder")
                }
            },
        )
        assert result.success
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks == {"has_pairs": True, "has_validation": True}
        decision = {
            m.asset_key.to_user_string(): {
                k: v.value for k, v in m.materialization.metadata.items()
            }
            for m in result.get_asset_materialization_events()
        }["challenger_decision"]
    registry = Registry.from_settings(docsearch.settings())
    assert (
        registry.client.get_model_version("docsearch-encoder", "1").tags["docsearch.kind"]
        == "encoder"
    )
    challenger = registry.alias(CHAMPION if decision["decision"] == "promote" else CHALLENGER)
    assert f"v{challenger.version}" == decision["challenger"]
    assert "feedback/ndcg_at_10" in registry.client.get_run(challenger.run_id).data.metrics
    if decision["decision"] == "reject":  # the old champion keeps serving
        assert store.current() == champion_version
    else:
        assert store.current() != champion_version
