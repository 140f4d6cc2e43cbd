"""The one label policy (lifecycle.feedback.labels), rule by rule: export_labels, the training
pairs and the choice memory must read the same feedback the same way, evidence rules included."""

import pytest

from lifecycle.feedback import Verdict, query_key, verdicts
from lifecycle.loop import build_training_data

QUESTION = "how many weeks of parental leave"


def _results(doc_ids):
    from search.index import SearchResult
    from search.retrieval import Snippet

    return [
        SearchResult(d, d.upper(), 1.0 / r, r, None, None, f"{d}#0", Snippet("", ()), {})
        for r, d in enumerate(doc_ids, start=1)
    ]


def _impression(store, shown, clicks=(), votes=(), session="s", user=None, question=QUESTION):
    """Log one impression of ``question``: ``shown`` in rank order, then clicks, then votes."""
    query_id = store.log_query(
        session_id=session,
        query=question,
        index_version="v1",
        method="hybrid",
        latency_ms=1.0,
        results=_results(shown),
        user=user,
    )
    for doc in clicks:
        store.log_click(query_id, doc, shown.index(doc) + 1, session_id=session)
    for doc, value in votes:
        store.log_vote(value, query_id=query_id, doc_id=doc, session_id=session)
    return query_id


def _read(store, index, question=QUESTION):
    """(exported grades, training pairs as (positive, negative, source), memory choices)."""
    qrels = store.export_labels().qrels.get(query_key(question)[0], {})
    data = build_training_data(store.impressions(), index, validation_fraction=0.0)
    pairs = {
        (p.positive_doc, p.negative_doc, p.negative_source)
        for p in data.pairs
        if p.query == question
    }
    return qrels, pairs, set(data.choices().get(question, {}))


def test_rule_1_a_click_is_a_choice_that_needs_a_second_person(store, index):
    _impression(store, ["d1", "d2"], clicks=["d1"], session="a")
    # one person's click alone says nothing yet (rules 4 and 6): no label, no pair, no memory
    assert _read(store, index) == ({}, set(), set())
    _impression(store, ["d1", "d2"], clicks=["d1"], session="b")
    qrels, pairs, chosen = _read(store, index)
    # d2, below the click and untouched, says nothing (no label); training falls back to it
    assert qrels == {"d1": 1}
    assert pairs == {("d1", "d2", "shown_unclicked")}
    assert chosen == {"d1"}


def test_rule_4b_a_click_and_a_thumbs_up_of_one_person_is_a_choice_graded_2(store, index):
    _impression(store, ["d1", "d2"], votes=[("d1", 1)], session="a")
    assert _read(store, index) == ({}, set(), set())  # a thumbs-up alone is one signal
    _impression(store, ["d1", "d2"], clicks=["d1"], votes=[("d1", 1)], session="c")
    qrels, pairs, chosen = _read(store, index)
    assert qrels == {"d1": 2}
    assert {p for p, _, _ in pairs} == {"d1"} and chosen == {"d1"}
    assert store.export_labels().lineage[query_key(QUESTION)[0]]["d1"].confirmed_by == {"session:c"}


def test_rule_1_clicked_then_voted_down_by_the_same_user_is_a_negative(store, index):
    _impression(store, ["d2", "d1", "d3"], clicks=["d1", "d3"], votes=[("d1", 1), ("d3", -1)])
    qrels, pairs, chosen = _read(store, index)
    # d2 was skipped above the click on d1; d3 was clicked, then voted down
    assert qrels == {"d1": 2, "d2": 0, "d3": 0}
    assert {p for p, _, _ in pairs} == {"d1"} and chosen == {"d1"}
    ((_, negative, source),) = pairs
    assert (negative, source) in {("d2", "skipped"), ("d3", "voted_down")}


def test_rule_2_a_thumbs_down_without_a_click_is_a_negative(store, index):
    _impression(store, ["d2", "d1"], clicks=["d1"], votes=[("d1", 1), ("d2", -1)])
    qrels, pairs, _ = _read(store, index)
    # d2 was also skipped above the click: voted down names it
    assert qrels == {"d1": 2, "d2": 0}
    assert pairs == {("d1", "d2", "voted_down")}


def test_rule_3_skipped_above_a_click_is_a_negative(store, index):
    _impression(store, ["d2", "d1", "d3"], clicks=["d1"], votes=[("d1", 1)])
    qrels, pairs, _ = _read(store, index)
    assert qrels == {"d1": 2, "d2": 0}  # d3, below the click, is not judged
    assert pairs == {("d1", "d2", "skipped")}


def test_rule_3_a_withdrawn_vote_or_no_action_says_nothing(store, index):
    _impression(store, ["d1", "d2"], votes=[("d1", 1), ("d1", 0)])
    _impression(store, ["d1", "d2"])
    qrels, pairs, chosen = _read(store, index)
    assert qrels == {} and pairs == set() and chosen == set()
    data = build_training_data(store.impressions(), index)
    assert data.stats["queries_with_feedback"] == 0 and data.query_ids == []


def test_rule_4a_two_people_choosing_a_document_for_different_questions_count(store, index):
    other = "parental leave duration"
    _impression(store, ["d1", "d2"], clicks=["d1"], session="a")
    _impression(store, ["d3", "d1"], clicks=["d1"], session="b", question=other)
    # d1 was chosen by two people (a for QUESTION, b for the other): both choices count
    assert _read(store, index)[0] == {"d1": 1}
    assert _read(store, index, other)[0] == {"d1": 1, "d3": 0}
    data = build_training_data(store.impressions(), index, validation_fraction=0.0)
    assert data.stats["chosen_pairs"] == data.stats["qualified_pairs"] == 2


def test_the_cap_per_person_one_person_asking_again_counts_once(store, index):
    for _ in range(5):  # the same person, the same question, five times
        _impression(store, ["d1", "d2"], clicks=["d1"], session="a")
    _impression(store, ["d1", "d3"], clicks=["d1"], session="a", question="another question")
    assert _read(store, index) == ({}, set(), set())
    # a signed-in person in two browser sessions is still one person
    _impression(store, ["d1", "d2"], clicks=["d1"], session="x", user="alice")
    _impression(store, ["d1", "d2"], clicks=["d1"], session="y", user="alice")
    evidence = store.export_labels().lineage  # nothing graded yet: a and alice count 2
    assert evidence[query_key(QUESTION)[0]]["d1"].chosen_by == {"session:a", "user:alice"}
    assert evidence[query_key(QUESTION)[0]]["d1"].chosen == 2
    data = build_training_data(store.impressions(), index, validation_fraction=0.0)
    assert data.stats["chosen_pairs"] == 2 and data.stats["qualified_pairs"] == 2


def test_rule_4_a_corroborated_choice_wins_over_another_users_thumbs_down(store, index):
    # user A skips d2, clicks d1 and up-votes it; user B votes d1 down: A's two signals show
    # d1 answers the question for someone
    _impression(store, ["d2", "d1"], clicks=["d1"], votes=[("d1", 1)], session="a")
    _impression(store, ["d1", "d3"], votes=[("d1", -1)], session="b")
    qrels, pairs, chosen = _read(store, index)
    assert qrels == {"d1": 2, "d2": 0}
    assert pairs == {("d1", "d2", "skipped")} and chosen == {"d1"}


def test_rule_5_one_persons_click_does_not_outweigh_anothers_thumbs_down(store, index):
    _impression(store, ["d2", "d1"], clicks=["d1"], session="a")
    _impression(store, ["d1", "d3"], votes=[("d1", -1)], session="b")
    qrels, pairs, _ = _read(store, index)
    assert qrels == {"d1": 0, "d2": 0} and pairs == set()


def test_rule_6_an_unconfirmed_choice_is_never_a_negative(store, index):
    # b skips d3 and clicks d1 (d1 corroborated by a's thumbs-up and click); c clicks d3 alone:
    # d3 has one unconfirmed choice and one skip, so it gets no label either way
    _impression(store, ["d1", "d2"], clicks=["d1"], votes=[("d1", 1)], session="a")
    _impression(store, ["d3", "d1"], clicks=["d1"], session="b")
    _impression(store, ["d3", "d2"], clicks=["d3"], session="c")
    qrels, pairs, _ = _read(store, index)
    assert qrels == {"d1": 2}
    # no negative was judged: the fallback is the best-ranked shown result nobody chose
    assert pairs == {("d1", "d2", "shown_unclicked")}


def test_rule_5_voted_down_anywhere_names_the_negative(store, index):
    # d2 skipped by A, voted down by B, never chosen: a negative from a thumbs-down
    _impression(store, ["d2", "d1"], clicks=["d1"], session="a")
    _impression(store, ["d2", "d1"], votes=[("d2", -1), ("d1", 1)], session="b")
    qrels, pairs, _ = _read(store, index)
    # d1: chosen by a (click) and b (thumbs-up), two people: relevant, graded 2 (b's thumbs-up)
    assert qrels == {"d1": 2, "d2": 0}
    assert pairs == {("d1", "d2", "voted_down")}
    evidence = store.export_labels().lineage[query_key(QUESTION)[0]]["d2"]
    # counted per person: skipped by both (shown above a choice), voted down by B
    assert (evidence.skips, evidence.down_votes, evidence.chosen) == (2, 1, 0)
    assert evidence.verdict is Verdict.VOTED_DOWN


@pytest.mark.parametrize(
    ("clicks", "votes", "expected"),
    [
        (["d3"], [], {"d1": "skipped", "d2": "skipped", "d3": "chosen"}),
        (["d3"], [("d3", -1)], {"d1": "skipped", "d2": "skipped", "d3": "voted_down"}),
        ([], [("d2", 1), ("d1", -1)], {"d1": "voted_down", "d2": "chosen"}),
        ([], [("d2", 1), ("d2", 0)], {}),
    ],
    ids=["click", "click-then-down", "up-and-down", "withdrawn"],
)
def test_verdicts_of_one_impression(store, clicks, votes, expected):
    _impression(store, ["d1", "d2", "d3", "d4"], clicks=clicks, votes=votes)
    (imp,) = store.impressions()
    assert verdicts(imp) == expected
