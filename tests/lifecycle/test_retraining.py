"""The learning loop end to end on the sample corpus: real feedback rows, real fine-tuning steps
of the packaged MiniLM, a real MLflow store, and the gate deciding both ways."""

from pathlib import Path

import pytest

from evaluation.beir import load_labeled_set
from lifecycle.builds import keep_learned_state, serving_model
from lifecycle.feedback import FeedbackStore
from lifecycle.gate import KEEP_COLLECTING, decide
from lifecycle.loop import (
    MIX_GRID,
    ClickModel,
    EvalSet,
    FineTuneConfig,
    TrainingData,
    challenger_policy,
    eval_set_of,
    retrain,
    simulate_feedback,
)
from lifecycle.registry import CHALLENGER, CHAMPION, Registry
from search.config import Fusion, IndexConfig
from search.encoding import EmbeddingCache
from search.index import MEMORY, IndexStore, SearchIndex
from search.settings import SAMPLE_SET, Settings

pytestmark = pytest.mark.slow


def test_challenger_gate_requires_improvement_and_ignores_report_sets():
    policy = challenger_policy(["feedback", "sample"], tolerance=0.01, evidence=None)  # means
    champion = {
        "feedback/ndcg_at_10": 0.60,
        "sample/ndcg_at_10": 0.80,
        "scifact-test/ndcg_at_10": 0.7,
    }
    better = {
        "feedback/ndcg_at_10": 0.65,
        "sample/ndcg_at_10": 0.795,
        "scifact-test/ndcg_at_10": 0.1,
    }
    assert decide(better, champion, policy).promote  # report set (scifact-test) is not gated
    # the product's gate also wants the gain proved on per-query evaluations: without them
    unproved = decide(better, champion, challenger_policy(["feedback", "sample"]))
    assert not unproved.promote and unproved.outcome == KEEP_COLLECTING
    same = {**better, "feedback/ndcg_at_10": 0.60}
    assert "not better" in decide(same, champion, policy).reason
    regressed = {**better, "sample/ndcg_at_10": 0.70}
    verdict = decide(regressed, champion, policy)
    assert not verdict.promote and verdict.regressions == {
        "sample/ndcg_at_10": pytest.approx(-0.10)
    }


def test_the_challenger_keeps_the_champions_learned_fusion_where_a_model_reads_it():
    from types import SimpleNamespace as NS

    from lifecycle.loop.challenger import challenger_fusion
    from search.config import Fusion

    def index(fusion, model, documents=None):
        encoder = NS(model_id=model, **({"documents": NS(model_id=documents)} if documents else {}))
        return NS(config=NS(fusion=fusion, model=model), encoder=encoder)

    champion = index(Fusion.RELEVANCE, "all-MiniLM-L6-v2")
    tuned = index(Fusion.RELEVANCE, "/models/encoder-1", documents="all-MiniLM-L6-v2")
    assert challenger_fusion(champion, tuned) == Fusion.RELEVANCE
    unknown = index(Fusion.RELEVANCE, "/models/encoder-2", documents="some-other-model")
    assert challenger_fusion(champion, unknown) == Fusion.WEIGHTED  # no model reads its cosines
    weighted = index(Fusion.WEIGHTED, "all-MiniLM-L6-v2")
    assert challenger_fusion(weighted, tuned) == Fusion.WEIGHTED  # the champion's own choice


def test_the_gate_labels_are_the_questions_training_never_saw(tiny_docs, hashing_encoder, tmp_path):
    from pathlib import Path

    from lifecycle.feedback import search_and_log
    from lifecycle.loop import build_training_data, held_out_set

    tiny = Path(__file__).parent.parent / "fixtures" / "beir_tiny"
    labeled = load_labeled_set(tiny, "test", with_documents=False)
    index = SearchIndex.build(tiny_docs, IndexConfig(model="hashing-128"), hashing_encoder)
    feedback = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.sqlite'}")
    for person in ("s", "t"):  # two people chose each answer: evidence enough (rule 4a)
        for qid, text in labeled.queries.items():
            logged, results = search_and_log(index, feedback, text, person, "v1", k=6)
            relevant = next(r for r in results if r.doc_id in labeled.qrels[qid])
            feedback.log_click(logged, relevant.doc_id, relevant.rank, session_id=person)
    data = build_training_data(feedback.impressions(), index, validation_fraction=0.5)
    held = held_out_set(labeled, fraction=0.5)
    assert held.name == "beir_tiny-test-heldout" and 0 < len(held.queries) < len(labeled.queries)
    assert sorted(held.queries.values()) == sorted(data.validation_queries.values())
    assert not set(held.queries.values()) & {p.query for p in data.pairs}
    assert held.qrels == {q: labeled.qrels[q] for q in held.queries}
    feedback.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory, real_encoder):
    """A served champion over the sample corpus, and simulated users' feedback on it."""
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home, docs=SAMPLE_SET / "docs", model="all-MiniLM-L6-v2")
    labeled = load_labeled_set(SAMPLE_SET, "test")
    cache = EmbeddingCache(settings.cache_path)
    # a champion that trusts only BM25 (z-score fusion at dense weight 0; the default fusion,
    # the calibrated relevance, has no weight to learn): the loop should learn to do better
    config = IndexConfig(fusion=Fusion.ZSCORE, dense_weight=0.0)
    store = IndexStore(settings.index_root())
    version = store.write(SearchIndex.build(labeled.documents, config, real_encoder, cache))
    feedback = FeedbackStore(settings.feedback_url)
    clicks = ClickModel(position_bias=0.0, noise=0.0, miss_rate=0.0, vote_rate=0.3)
    simulate_feedback(store.load(version, real_encoder), feedback, labeled, version, clicks)
    return settings, labeled, store, version, feedback


def _retrain(world, learning_rate, documents=False):
    from lifecycle.gate import EvidencePolicy

    settings, labeled, store, version, feedback = world
    registry = Registry(settings.mlflow_uri, settings.mlflow_artifacts)
    champion = store.load(store.current())
    outcome = retrain(
        champion,
        store.current(),
        list(feedback.impressions()),
        store,
        settings,
        gate_sets=[eval_set_of(labeled)],
        fine_tune_config=FineTuneConfig(
            epochs=1,
            batch_size=8,
            learning_rate=learning_rate,
            max_seq_length=64,
            documents=documents,
        ),
        log=lambda _line: None,
        registry=registry,
        # the sample's 45 questions and the few held back: the gain must still be significant
        evidence=EvidencePolicy(min_queries=40),
    )
    return outcome, registry


@pytest.mark.parametrize("documents", [False, True], ids=["query-side", "both-sides"])
def test_a_worse_challenger_is_refused_and_the_champion_keeps_serving(world, documents):
    settings, labeled, store, version, feedback = world
    assert len(feedback.rows("queries")) == len(labeled.queries)
    # a learning rate this high wrecks the encoder: the challenger must lose
    outcome, registry = _retrain(world, learning_rate=0.5, documents=documents)
    assert outcome.fine_tune["trained"] == ("queries and documents" if documents else "queries")
    assert not outcome.promoted
    assert outcome.after["feedback"]["ndcg_at_10"] <= outcome.before["feedback"]["ndcg_at_10"]
    assert store.current() == version  # the old index still serves
    assert registry.alias(CHAMPION).tags["docsearch.index_version"] == version
    challenger = registry.alias(CHALLENGER)
    assert challenger.tags["docsearch.index_version"] == outcome.challenger_version
    run = registry.client.get_run(challenger.run_id)
    assert run.data.tags["gate.decision"] == "reject"
    assert run.data.tags["docsearch.reason"] == "retrained"  # the learning loop says why
    assert run.data.tags["docsearch.alias"] == CHALLENGER  # the runs table shows it
    assert "feedback/ndcg_at_10" in run.data.metrics
    assert run.data.metrics["memory_questions"] == outcome.pairs["training_queries"]
    encoder = registry.client.get_model_version(
        "docsearch-encoder", outcome.mlflow["encoder_version"]
    )
    assert encoder.tags["docsearch.training_data"] == outcome.pairs["fingerprint"]
    assert outcome.pairs["pairs"] > 10 and outcome.fine_tune["steps"] >= 1


def test_a_better_challenger_is_promoted(world):
    settings, labeled, store, version, feedback = world
    outcome, registry = _retrain(world, learning_rate=2e-5)
    assert outcome.dense_weight > 0.0  # fusion re-fitted on the validation feedback
    assert outcome.after["feedback"]["ndcg_at_10"] > outcome.before["feedback"]["ndcg_at_10"]
    assert outcome.promoted, outcome.reason
    assert outcome.decision == "promote" and outcome.evidence["p_better"] < 0.05
    assert outcome.evidence["queries"] >= 45  # the sample's questions and the held-back ones
    assert store.current() == outcome.challenger_version != version
    champion = registry.alias(CHAMPION)
    assert champion.tags["docsearch.index_version"] == outcome.challenger_version
    served = store.load()
    assert served.encoder.model_id == outcome.encoder_path  # the fine-tuned encoder serves
    # its weights mixed with the start's by the weight the held-back feedback scored best
    scores = outcome.fine_tune["mixture_scores"]
    assert set(scores) == set(MIX_GRID)
    assert scores[outcome.fine_tune["mixture_alpha"]] == max(scores.values())
    encoder_run = registry.client.get_run(outcome.mlflow["encoder_run"]).data.metrics
    assert encoder_run["mixture_alpha"] == outcome.fine_tune["mixture_alpha"]
    # only its query side was trained: the champion's passage vectors serve unchanged
    previous = store.load(version)
    assert served.encoder.fingerprint == previous.encoder.fingerprint
    assert served.encoder.query_fingerprint != previous.encoder.fingerprint
    assert (served.dense.vectors() == previous.dense.vectors()).all()
    assert served.config.dense_weight == outcome.dense_weight
    # the fine-tuned encoder reads its document model's relevance model: the floor holds
    assert served.search_page(next(iter(labeled.queries.values()))).floor is not None
    # later builds (the documents sensor's index_job) keep the fine-tuned encoder, and its
    # passage side is the one the cache already holds: nothing is encoded again
    assert serving_model(settings, store) == outcome.encoder_path
    from search.encoding import load_encoder

    rebuilt = SearchIndex.build(
        labeled.documents,
        IndexConfig(model=outcome.encoder_path),
        load_encoder(outcome.encoder_path),
        EmbeddingCache(settings.cache_path),
    )
    assert rebuilt.build_stats.chunks_embedded == 0
    query = next(iter(labeled.queries.values()))
    assert rebuilt.run({"q": query}, method="dense") == served.run({"q": query}, method="dense")
    # the choice memory holds the training questions (their vectors: an exact repeat recalls,
    # cosine 1), never the held-back ones, and no question's text; a rebuild after documents
    # change (index_job) keeps it and the fitted weight
    trained = TrainingData.load(Path(outcome.pairs["path"]))
    assert len(served.memory) == outcome.pairs["training_queries"]
    held_back = list(trained.validation_queries.values())
    exact = served.memory.recall(served.encoder.encode_queries(held_back), threshold=0.999)
    assert held_back and exact == [{}] * len(held_back)
    asked = sorted(trained.choices())
    assert all(served.memory.recall(served.encoder.encode_queries(asked), threshold=0.999))
    saved = b"".join(p.read_bytes() for p in (store.path(store.current()) / MEMORY).iterdir())
    assert not [q for q in labeled.queries.values() if q.lower().encode() in saved.lower()]
    rebuilt = keep_learned_state(rebuilt, store)
    assert rebuilt.config.dense_weight == outcome.dense_weight
    assert rebuilt.run({"q": query}) == served.run({"q": query})
    assert isinstance(EvalSet("x", {}, {}), EvalSet)
