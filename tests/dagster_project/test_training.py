"""The training group: the feedback sensor, one turn of the loop through Dagster and through
the CLI's composition on the same feedback, and one real turn through Dagster."""

import math
import shutil
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.assets import INDEX_ASSETS, TRAINING_ASSETS
from dagster_project.automation import feedback_sensor
from dagster_project.resources import DocsearchSettings, make_resources
from evaluation.beir import load_labeled_set
from lifecycle.feedback import FeedbackStore, search_and_log
from lifecycle.loop import (
    FineTuneResult,
    Mixture,
    collect_impressions,
    eval_set_of,
    retrain,
    steps,
)
from lifecycle.registry import CHALLENGER, CHAMPION, Registry
from search.config import IndexConfig
from search.index import IndexStore, SearchIndex
from search.settings import Settings

BEIR_TINY = Path(__file__).resolve().parents[1] / "fixtures" / "beir_tiny"
FILE_CLICKS = {  # question -> the file users chose in the labeled folder
    "parental leave weeks": "d1.txt",
    "vpn error 809": "d2.txt",
    "meal allowance travelling": "d3.txt",
    "battery recalibration": "d4.txt",
    "password length": "d5.txt",
    "office closed christmas": "d6.txt",
}
# questions users asked and the document each chose; with the default 0.2 split by question
# four land in the held-back feedback ("connect to the vpn ...", "meal allowance ...",
# "battery drains fast", "office closed christmas") and the other 14 in the training pairs.
# Asking after the VPN on Windows, users want the password rules (d5), which the champion
# ranks below the VPN page: what the challenger's choice memory can learn.
ASKED = {
    "how many weeks of parental leave": "d1",
    "paid leave after adoption": "d1",
    "leave after the birth of a child": "d1",
    "vpn error 809": "d2",
    "vpn firewall blocks udp": "d2",
    "connect to the vpn on windows": "d5",
    "connect to the vpn on windows password": "d5",
    "the vpn on windows wants a password": "d5",
    "meal allowance when travelling": "d3",
    "expense receipts deadline": "d3",
    "reimbursement of meals": "d3",
    "battery recalibration cycles": "d4",
    "laptop battery calibration": "d4",
    "battery drains fast": "d4",
    "minimum password length": "d5",
    "how long must a password be": "d5",
    "office closed christmas": "d6",
    "holiday closure dates": "d6",
}


def test_feedback_sensor_waits_for_enough_new_feedback(
    docsearch, monkeypatch, tiny_docs, hashing_encoder
):
    from search.config import IndexConfig
    from search.index import SearchIndex

    monkeypatch.setenv("DOCSEARCH_RETRAIN_MIN_FEEDBACK", "3")
    with dg.build_sensor_context() as context:
        assert "no index" in feedback_sensor(context, docsearch=docsearch).skip_reason.skip_message
    index = SearchIndex.build(tiny_docs, IndexConfig(model="hashing-128"), hashing_encoder)
    version = docsearch.store().write(index)
    store = FeedbackStore(docsearch.settings().feedback_url)

    def log(index_version):  # feedback is accepted only on results that were shown
        return search_and_log(index, store, "q", "s", index_version, k=6)[0]

    qid, elsewhere = log(version), log("another-index")
    store.log_click(qid, "d1")
    store.log_vote(1, query_id=qid, doc_id="d1")
    store.log_click(elsewhere, "d3")  # feedback on another index does not count
    store.log_vote(1, query_id=elsewhere, doc_id="d3")
    with dg.build_sensor_context() as context:
        first = feedback_sensor(context, docsearch=docsearch)
    # 2 events on this index (a click and a vote): observed, below the threshold of 3
    assert first.skip_reason is not None and not first.run_requests
    (seen,) = first.asset_events
    assert seen.asset_key == dg.AssetKey("feedback_events") and seen.metadata["events"].value == 2
    with dg.build_sensor_context(cursor=first.cursor) as context:
        again = feedback_sensor(context, docsearch=docsearch)
    assert again.asset_events == []  # nothing new: no observation
    store.log_click(qid, "d2")
    with dg.build_sensor_context(cursor=again.cursor) as context:
        result = feedback_sensor(context, docsearch=docsearch)
    (request,) = result.run_requests
    assert request.tags["docsearch/new_feedback"] == "3"
    assert result.asset_events[0].metadata["events"].value == 3
    with dg.build_sensor_context(cursor="3") as context:  # the previous release's cursor
        assert not feedback_sensor(context, docsearch=docsearch).run_requests
    with dg.build_sensor_context(cursor="773,148") as context:  # an older cursor format
        assert "reset" in feedback_sensor(context, docsearch=docsearch).skip_reason.skip_message


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
        for person in ("s", "t"):  # two people: one person's click alone is no evidence
            for text, answer in FILE_CLICKS.items():
                qid, results = search_and_log(index, feedback, text, person, champion_version, k=6)
                rank = next(r.rank for r in results if r.doc_id == answer)
                feedback.log_click(qid, answer, rank, session_id=person)
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
    if decision["decision"] != "promote":  # the old champion keeps serving
        assert store.current() == champion_version
    else:
        assert store.current() != champion_version


def _no_training(champion, data, output_dir, config, log=print):
    """Stands in for fine-tuning, the one step the hashing encoder cannot take (it has no
    weights): the "fine-tuned" encoder is the hashing encoder itself, in a folder named so
    that ``load_encoder`` reads it (the test runs in its own working directory)."""
    folder = Path(champion.encoder.model_id)
    folder.mkdir(exist_ok=True)
    (folder / "README").write_text("the hashing encoder has no weights\n")
    return FineTuneResult(
        folder, champion.encoder.model_id, 0, 0, 0.0, "cpu", None, "queries", config
    )


def _champion_with_feedback(home: Path, tiny_docs, encoder) -> str:
    """A champion over beir_tiny (hashing encoder) and two people's clicks for every ASKED
    question (one person's click alone is not evidence enough: the label policy's rule 4)."""
    settings = Settings(home=home, docs=home, model="hashing-128")
    store = IndexStore(settings.index_root())
    version = store.write(SearchIndex.build(tiny_docs, IndexConfig(model="hashing-128"), encoder))
    index, feedback = store.load(version), FeedbackStore(settings.feedback_url)
    for person in ("s", "t"):
        for text, answer in ASKED.items():
            qid, results = search_and_log(index, feedback, text, person, version, k=6)
            rank = next(r.rank for r in results if r.doc_id == answer)
            feedback.log_click(qid, answer, rank, session_id=person)
    feedback.close()
    return version


def test_the_cli_and_dagster_turns_of_the_loop_agree(
    tmp_path, monkeypatch, tiny_docs, hashing_encoder, labeled_folder
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(steps, "fine_tune", _no_training)
    # nor can its weights be mixed with the start's: the encoder stays as "trained"
    monkeypatch.setattr(steps, "choose_mixture", lambda *_args, **_kw: Mixture())
    # each home its own stores
    for name in ("MLFLOW_TRACKING_URI", "DOCSEARCH_FEEDBACK_URL", "DOCSEARCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    version = _champion_with_feedback(tmp_path / "dagster", tiny_docs, hashing_encoder)
    shutil.copytree(tmp_path / "dagster", tmp_path / "cli")  # the same champion and feedback
    # two labeled sets: beir_tiny judges the index's documents; the labeled folder judges
    # files (d1.txt ...) the index does not hold, so neither path may gate on it
    roots = {"sample": labeled_folder, "scifact": BEIR_TINY}

    settings = Settings(home=tmp_path / "cli", docs=tmp_path, model="hashing-128")
    store = IndexStore(settings.index_root())
    outcome = retrain(
        store.load(version),
        version,
        collect_impressions(settings.feedback_url, store),
        store,
        settings,
        gate_sets=[eval_set_of(load_labeled_set(r, with_documents=False)) for r in roots.values()],
        log=lambda _line: None,
        registry=Registry.from_settings(settings),
    )

    metadata = _materialize_training(tmp_path / "dagster", roots)
    pairs, decision = metadata["training_pairs"], metadata["challenger_decision"]

    # the same training data, challenger and fit
    assert pairs["fingerprint"] == outcome.pairs["fingerprint"]
    assert (pairs["pairs"], pairs["validation_queries"]) == (14, 4)  # one document per question
    assert metadata["challenger_index"]["dense_weight"] == outcome.dense_weight
    assert metadata["fine_tuned_encoder"]["epochs"] == outcome.fine_tune["epochs"]
    # the same sets judged the same way: the labeled folder is left out by both
    assert decision["skipped_sets"] == "labeled-test"
    assert set(outcome.after) == {"feedback", "beir_tiny-test"}
    for side in ("before", "after"):
        cli = {
            f"{side} {s}/{m}": v for s, ms in getattr(outcome, side).items() for m, v in ms.items()
        }
        assert cli == {k: v for k, v in decision.items() if k.startswith(f"{side} ")}
    # held-back feedback: three questions clicked at rank 1 score 1 each; the champion shows
    # d5 fifth for the VPN question, the challenger ranks it first from the training
    # questions' choices (recall, and BM25 expansion by "connect", "vpn", "windows": words two
    # people used for d5): nDCG@10 (3 + 1/log2(6)) / 4 = 0.8467 -> (3 + 1) / 4 = 1.0,
    # MRR@10 (3 + 1/5) / 4 = 0.8 -> (3 + 1) / 4 = 1.0; nothing else down, but 4 + 5 = 9
    # labeled queries are no evidence (50 wanted): both keep collecting, for the same reason
    before, after = outcome.before["feedback"], outcome.after["feedback"]
    assert before["ndcg_at_10"] == pytest.approx((3 + 1 / math.log2(6)) / 4)
    assert after["ndcg_at_10"] == pytest.approx(1.0)
    assert (before["mrr_at_10"], after["mrr_at_10"]) == pytest.approx((0.8, 1.0))
    assert decision["decision"] == outcome.decision == "keep collecting"
    assert not outcome.promoted and outcome.evidence["queries"] == 9
    assert decision["reason"] == outcome.reason
    # recorded alike: each registry's challenger run holds the fit's grid
    cli, dagster = (_fit_logged(tmp_path / home) for home in ("cli", "dagster"))
    assert cli == dagster and len(cli) == 9  # the fitted weight and the 8 points of its grid


def _materialize_training(home: Path, roots: dict[str, Path]) -> dict[str, dict]:
    """Run the training group with defaults in ``home``; the metadata of each asset."""
    docsearch = DocsearchSettings(
        home=str(home),
        model="hashing-128",
        sample_set=str(roots["sample"]),
        scifact=str(roots["scifact"]),
    )
    resources = make_resources(docsearch, home / "storage")
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(TRAINING_ASSETS, resources=resources, instance=instance)
    assert result.success
    return {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.materialization.metadata.items()}
        for m in result.get_asset_materialization_events()
    }


def _fit_logged(home: Path) -> dict[str, float]:
    """The fit metrics on the champion's run in the MLflow store under ``home``."""
    registry = Registry.from_settings(Settings(home=home, docs=home, model=""))
    metrics = registry.client.get_run(registry.alias(CHALLENGER).run_id).data.metrics
    return {k: v for k, v in metrics.items() if k.startswith("fit/") or k == "dense_weight_fitted"}
