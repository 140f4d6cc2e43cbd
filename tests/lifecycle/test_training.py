import math

import numpy as np
import pytest
import torch

from lifecycle.feedback import search_and_log
from lifecycle.loop import (
    AllPassagesLoss,
    TrainingData,
    TrainingPair,
    build_training_data,
    is_validation,
)
from search.config import IndexConfig

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)


def test_pairs_from_clicks_skips_and_votes(index, store, tmp_path):
    # the same question asked by two people (different case): one labeled query, no duplicate
    # pairs; two people chose the same document, so their clicks count (label policy rule 4a)
    for text, session in (
        ("battery recalibration cycles", "s1"),
        ("Battery  recalibration cycles", "s4"),
    ):
        qid, results = search_and_log(index, store, text, session, "v1", k=6)
        by_rank = {r.rank: r.doc_id for r in results}
        store.log_click(qid, by_rank[3], 3, session_id=session)  # ranks 1 and 2 were skipped
    qid, results = search_and_log(index, store, "password rules", "s2", "v2", k=6)
    top = results[0].doc_id
    store.log_click(qid, top, 1, session_id="s2")  # a click and a thumbs-up at rank 1: one
    store.log_vote(1, query_id=qid, doc_id=top, session_id="s2")  # person, two signals (4b)
    store.log_vote(-1, query_id=qid, doc_id=results[1].doc_id)  # thumbs-down at rank 2
    store.log_click(qid, results[2].doc_id, 3)  # clicked at rank 3, then voted down:
    store.log_vote(-1, query_id=qid, doc_id=results[2].doc_id)  # a negative, not a positive
    search_and_log(index, store, "no feedback on this one", "s3", "v2", k=6)
    qid, lone = search_and_log(index, store, "one person's click", "s5", "v2", k=6)
    store.log_click(qid, lone[3].doc_id, 4)  # one person's click alone: no pair (rule 6)

    data = build_training_data(store.impressions(), index, validation_fraction=0.0)
    assert data.stats["queries_with_feedback"] == 3 and data.stats["validation_queries"] == 0
    # chosen (question, document) pairs: battery's, password's top, and the lone click
    assert (data.stats["chosen_pairs"], data.stats["qualified_pairs"]) == (3, 2)
    battery = [p for p in data.pairs if p.query == "battery recalibration cycles"]
    assert len(battery) == 1  # de-duplicated across the two impressions
    (pair,) = battery
    assert pair.positive_doc == by_rank[3] and pair.weight == 3  # inverse propensity 3 ** 1
    assert pair.negative_doc in {by_rank[1], by_rank[2]} and pair.negative_source == "skipped"
    (pw,) = [p for p in data.pairs if p.query == "password rules"]
    assert (pw.positive_doc, pw.weight) == (top, 1)
    assert pw.negative_doc in {results[1].doc_id, results[2].doc_id}
    assert pw.negative_source == "voted_down"
    assert set(data.choices()["password rules"]) == {top}
    # who chose, as pseudonyms: two people for battery, one for password (never their ids)
    assert len(data.choices()["battery recalibration cycles"][by_rank[3]]) == 2
    assert len(data.choices()["password rules"][top]) == 1
    assert "s2" not in str(data.chosen_by) and "session:s2" not in str(data.chosen_by)
    assert pw.positive.startswith(index.documents[top]["title"])  # the passage that was shown
    assert not any(p.query == "one person's click" for p in data.pairs)
    assert sorted(data.index_versions) == ["v1", "v2"] and len(data.query_ids) == 4

    data.save(tmp_path / "pairs")
    again = TrainingData.load(tmp_path / "pairs")
    assert again.pairs == data.pairs and again.fingerprint == data.fingerprint
    assert again.choices() == data.choices()


def test_validation_split_is_by_query_and_deterministic(index, store):
    for q in ("vpn error 809", "minimum password length", "meal allowance", "parental leave"):
        for session in ("s", "t"):  # two people chose the top result: a positive (rule 4a)
            qid, results = search_and_log(index, store, q, session, "v1", k=3)
            store.log_click(qid, results[0].doc_id, 1, session_id=session)
    data = build_training_data(store.impressions(), index, validation_fraction=0.5)
    held = set(data.validation_queries.values())
    trained = {p.query for p in data.pairs}
    assert held and trained and not held & trained
    assert all(is_validation(k, 0.5) for k in data.validation_queries)
    # a click at rank 1 has nothing skipped above it: the next shown result is the negative
    assert {p.negative_source for p in data.pairs} == {"shown_unclicked"}


class _FixedQueries(torch.nn.Module):
    """Stands in for a SentenceTransformer: each query's embedding is a given vector."""

    def __init__(self, vectors):
        super().__init__()
        self.vectors = torch.tensor(np.array(vectors), dtype=torch.float32)

    def forward(self, features):
        return {"sentence_embedding": self.vectors[features["row"]]}


def test_all_passages_loss_by_hand(index):
    # the index's documents, each scoring its best chunk; the loss is a softmax over all of them
    docs = index.doc_ids
    pairs = [
        TrainingPair("q", "p", "n", docs[0], docs[1], "skipped", 1),
        TrainingPair("q", "p", "n", docs[2], docs[1], "skipped", 1),  # a second click on "q"
    ]
    vectors = index.dense.vectors()
    rows = {d: [i for i, c in enumerate(index.chunks) if c.doc_id == d] for d in docs}
    query = vectors[rows[docs[0]][0]]  # a chunk of docs[0] itself
    model = _FixedQueries([query, query])
    loss = AllPassagesLoss(model, index, pairs, scale=20.0, seed=0)
    got = loss([{"row": torch.tensor([0, 1])}], torch.tensor([0, 1]))

    best = {d: max(float(vectors[r] @ query) for r in rows[d]) for d in docs}
    expected = []
    for target, other in ((docs[0], docs[2]), (docs[2], docs[0])):
        logits = {d: 20.0 * s for d, s in best.items() if d != other}  # other click left out
        expected.append(math.log(sum(math.exp(v) for v in logits.values())) - logits[target])
    assert got.item() == pytest.approx(sum(expected) / 2, rel=1e-4)

    # the skipped result (docs[1]) counts three times in each denominator
    boosted = AllPassagesLoss(model, index, pairs, scale=20.0, seed=0, hard_negative_weight=3.0)
    got = boosted([{"row": torch.tensor([0, 1])}], torch.tensor([0, 1]))
    expected = []
    for target, other in ((docs[0], docs[2]), (docs[2], docs[0])):
        logits = {d: 20.0 * s for d, s in best.items() if d != other}
        total = sum(math.exp(v) for v in logits.values()) + 2 * math.exp(logits[docs[1]])
        expected.append(math.log(total) - logits[target])
    assert got.item() == pytest.approx(sum(expected) / 2, rel=1e-4)


def test_a_mixture_averages_the_start_and_the_fine_tuned_weights(tmp_path):
    from sentence_transformers import SentenceTransformer

    from lifecycle.loop import write_mixture
    from search.encoding import resolve_model
    from search.encoding.encoder import QUERY_ENCODER_FILE

    start = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu")
    name = "0.model.encoder.layer.0.attention.self.query.bias"
    before = start.state_dict()[name].clone()
    tuned_dir = tmp_path / "tuned"
    with torch.no_grad():  # "fine-tuned": one bias moved by 4.0, all else as it started
        start.get_parameter(name).add_(4.0)
    start.save(str(tuned_dir))
    (tuned_dir / QUERY_ENCODER_FILE).write_text("{}")  # a query encoder's pairing

    mixed_dir = write_mixture("all-MiniLM-L6-v2", tuned_dir, 0.25, tmp_path / "mixed")
    mixed = SentenceTransformer(str(mixed_dir), device="cpu").state_dict()
    assert torch.allclose(mixed[name], before + 1.0)  # 0.75 x start + 0.25 x (start + 4)
    other = "0.model.encoder.layer.0.attention.self.key.bias"
    assert torch.equal(mixed[other], start.state_dict()[other])
    assert (mixed_dir / QUERY_ENCODER_FILE).read_text() == "{}"  # the pairing goes with it
    tuned = SentenceTransformer(str(tuned_dir), device="cpu").state_dict()
    assert torch.allclose(tuned[name], before + 4.0)  # the trained folder is left as it was
