"""The loop's steps one by one (hashing encoder; fine-tuning itself is in test_retraining)."""

from math import log2
from pathlib import Path

import pytest

from evaluation.beir import load_labeled_set
from lifecycle.feedback import FeedbackStore, search_and_log
from lifecycle.loop import (
    WEIGHT_GRID,
    ChallengerBuild,
    ChampionIndex,
    EvalSet,
    TrainingData,
    build_challenger_version,
    collect_impressions,
    eval_set_of,
    judge_challenger,
    prepare_training_data,
)
from lifecycle.registry import Registry
from search.config import IndexConfig
from search.index import IndexStore, SearchIndex
from search.settings import Settings

BEIR_TINY = Path(__file__).resolve().parents[1] / "fixtures" / "beir_tiny"
# question -> the document users chose. The 0.2 split by question holds back "meal allowance
# ..." and "connect to the vpn on windows"; for the latter users want the password rules (d5),
# which the champion ranks fifth, as do two training questions like it.
ASKED = {
    "how many weeks of parental leave": "d1",
    "vpn error 809": "d2",
    "meal allowance when travelling": "d3",
    "reimbursement of meals": "d3",
    "battery recalibration cycles": "d4",
    "connect to the vpn on windows": "d5",
    "connect to the vpn on windows password": "d5",
    "the vpn on windows wants a password": "d5",
}


@pytest.fixture
def turn(tmp_path, tiny_docs, hashing_encoder):
    """Settings, a champion over beir_tiny, and two people's clicks for every ASKED question
    on it (one person's click alone is not evidence enough: label policy rule 4)."""
    settings = Settings(home=tmp_path / "home", docs=tmp_path, model="hashing-128")
    store = IndexStore(settings.index_root())
    config = IndexConfig(model="hashing-128")
    version = store.write(SearchIndex.build(tiny_docs, config, hashing_encoder))
    champion = ChampionIndex.load(store, version)
    feedback = FeedbackStore(settings.feedback_url)
    for person in ("s", "t"):
        for text, answer in ASKED.items():
            qid, results = search_and_log(champion.index, feedback, text, person, version, k=6)
            rank = next(r.rank for r in results if r.doc_id == answer)
            feedback.log_click(qid, answer, rank, session_id=person)
    # feedback on another index sharing the store is not this index's to learn from
    search_and_log(champion.index, feedback, "vpn error 809", "s", "elsewhere", k=6)
    feedback.close()
    return settings, champion


def test_impressions_of_the_stores_versions_become_saved_training_data(turn):
    settings, champion = turn
    impressions = collect_impressions(settings.feedback_url, champion.store)
    assert len(impressions) == 16 and {i.index_version for i in impressions} == {champion.version}
    prepared = prepare_training_data(impressions, champion, settings.home, log=lambda _: None)
    assert prepared.path == settings.home / "training" / prepared.data.fingerprint
    assert TrainingData.load(prepared.path).pairs == prepared.data.pairs
    # 8 questions (each asked by two people), two held back by the split on their text:
    # 6 pairs (one chosen document each)
    assert (prepared.data.stats["pairs"], prepared.data.stats["validation_queries"]) == (6, 2)


def test_the_challenger_is_stored_without_serving_and_judged(turn):
    settings, champion = turn
    impressions = collect_impressions(settings.feedback_url, champion.store)
    data = prepare_training_data(impressions, champion, settings.home, log=lambda _: None).data
    challenger, build = build_challenger_version(
        champion, Path("hashing-128"), data, settings.cache_path, log=lambda _: None
    )
    assert champion.store.current() == champion.version != build.version
    assert build.path == champion.store.path(build.version)
    assert sorted(build.weight_grid) == sorted(WEIGHT_GRID)
    assert build.dense_weight == challenger.config.dense_weight in WEIGHT_GRID
    assert build.memory_questions == len(challenger.memory) == 6  # the training questions
    assert build.chunks_embedded == 0  # the champion's passage vectors are reused

    # a set judging a document the index lacks is skipped; one with no queries just dropped
    elsewhere = EvalSet("elsewhere", {"q": "vpn"}, {"q": {"not-indexed.txt": 1}})
    empty = EvalSet("empty", {}, {})
    logged = []
    judged = judge_challenger(
        champion,
        challenger,
        build,
        data,
        gate_sets=[
            eval_set_of(load_labeled_set(BEIR_TINY, with_documents=False)),
            elsewhere,
            empty,
        ],
        log=logged.append,
    )
    assert [s.name for s in judged.gated] == ["feedback", "beir_tiny-test"]
    assert judged.skipped == ("elsewhere",) and "elsewhere" in logged[0]
    assert set(judged.before) == set(judged.after) == {"feedback", "beir_tiny-test"}
    # held-back feedback: "meal allowance" clicked first scores 1; d5, shown fifth for the VPN
    # question, is recalled first: nDCG@10 (1 + 1/log2(6)) / 2 = 0.6934 -> (1 + 1) / 2 = 1.0,
    # beir_tiny stays at 1.0. Better on average, but on 2 + 5 = 7 labeled queries, of which one
    # changed: not evidence (50 wanted), so the gate says keep collecting and nothing serves
    assert judged.before["feedback"].mean["ndcg_at_10"] == pytest.approx((1 + 1 / log2(6)) / 2)
    assert judged.after["feedback"].mean["ndcg_at_10"] == pytest.approx(1.0)
    assert judged.after["beir_tiny-test"].mean["ndcg_at_10"] == pytest.approx(1.0)
    assert judged.decision.outcome == "keep collecting" and not judged.promoted
    assert judged.decision.evidence.gain.queries == 7 and judged.decision.evidence.gain.changed == 1
    assert judged.decision.evidence.sets == {"feedback": 2, "beir_tiny-test": 5}
    assert "7 labeled queries judged by both versions, 50 needed" in judged.reason
    assert champion.store.current() == champion.version
    assert logged[-1] == f"gate: keep the champion: {judged.reason}"
    # the means alone (no evidence asked for): promoted, and without a registry the store's
    # CURRENT moves
    judged = judge_challenger(
        champion, challenger, build, data, gate_sets=[eval_set_of(load_labeled_set(BEIR_TINY))],
        evidence=None, log=logged.append,
    )  # fmt: skip
    assert judged.promoted and champion.store.current() == build.version
    assert logged[-1] == f"gate: promote: {judged.reason}"


def test_recording_in_mlflow_needs_the_encoder_logged_first(turn):

    settings, champion = turn
    data = TrainingData([], {}, {}, [], [])
    index = champion.index

    build = ChallengerBuild(
        champion.version, champion.store.path(champion.version), 0.5, {}, 0, 0, 0
    )
    with pytest.raises(ValueError, match="run train_encoder with the same registry"):
        judge_challenger(
            champion, index, build, data, registry=Registry.from_settings(settings),
            log=lambda _: None,
        )  # fmt: skip
