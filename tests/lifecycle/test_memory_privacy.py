"""The memory keeps questions private (issues 13 and 15): one person's question, clicked to the
payroll document, must not make another person's search for its words find that document, and
no question text reaches the saved index (the folder MLflow receives as the model's artifact)."""

import json

import pytest

from lifecycle.feedback import search_and_log
from lifecycle.loop import build_training_data
from search.config import IndexConfig
from search.index import IndexStore, SearchIndex
from search.ingest import load_beir_corpus
from search.retrieval import ChoiceMemory

LEAK = "is an employee being fired over the embezzlement investigation"
CORPUS = [
    (
        "payroll",
        "Payroll calendar",
        "Salaries are paid on the 25th of each month by bank transfer.",
    ),
    ("leave", "Parental leave", "Employees receive sixteen weeks of paid parental leave."),
    ("vpn", "VPN setup", "Install the WireGuard client and import the configuration file."),
    ("expenses", "Expense claims", "Submit receipts within thirty days through the portal."),
    ("security", "Badge access", "Lost badges are blocked at reception within the hour."),
]


@pytest.fixture
def payroll_index(tmp_path, hashing_encoder):
    path = tmp_path / "corpus.jsonl"
    path.write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in CORPUS)
    )
    config = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)
    index = SearchIndex.build(load_beir_corpus(path), config, hashing_encoder)
    assert "payroll" not in _found(index, "embezzlement")  # no document has the word
    return index


def _found(index: SearchIndex, query: str) -> set[str]:
    """Documents a search finds through words or memory: BM25 hits, and hybrid results that
    BM25 or the memory's recall brought (dense alone ranks every document)."""
    bm25 = {r.doc_id for r in index.search(query, k=5, method="bm25") if r.score > 0}
    hybrid = index.search(query, k=5, method="hybrid")
    return bm25 | {r.doc_id for r in hybrid if (r.bm25_score or 0) > 0 or r.memory_score}


def _choose(store, index, question, person, *, thumbs_up=False):
    """``person`` asks ``question`` and opens the payroll document (and up-votes it)."""
    query_id, results = search_and_log(index, store, question, person, "v1", k=5)
    assert "payroll" in {r.doc_id for r in results}
    store.log_click(query_id, "payroll", session_id=person)
    if thumbs_up:
        store.log_vote(1, query_id=query_id, doc_id="payroll", session_id=person)


def _learned(store, index, tmp_path):
    """The memory the learning loop makes of the feedback, and the index saved with it."""
    data = build_training_data(store.impressions(), index, validation_fraction=0.0)
    memory = ChoiceMemory.build(data.choices(), index.encoder)
    learned = index.with_memory(memory)
    folder = IndexStore(tmp_path / "versions").path(
        IndexStore(tmp_path / "versions").write(learned)
    )
    return learned, folder


def _text_in(folder) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_one_persons_question_never_reaches_another_person(store, payroll_index, tmp_path):
    # the case: one person clicks payroll for the embezzlement question
    _choose(store, payroll_index, LEAK, "mallory")
    learned, folder = _learned(store, payroll_index, tmp_path)
    assert learned.memory is None  # one person's click alone teaches nothing (evidence rule)
    assert "payroll" not in _found(learned, "embezzlement")

    # even with a thumbs-up (their own two signals) and payroll chosen by another person for
    # another question, the question's words stay theirs: the memory recalls by vector only
    _choose(store, payroll_index, LEAK, "mallory", thumbs_up=True)
    _choose(store, payroll_index, "when are salaries paid", "bob")
    learned, folder = _learned(store, payroll_index, tmp_path / "2")
    assert len(learned.memory) == 2 and learned.memory.terms == {}
    assert "payroll" not in _found(learned, "embezzlement")
    saved = _text_in(folder)
    assert LEAK.encode() not in saved and b"embezzl" not in saved  # not even BM25's stem
    assert b"mallory" not in saved and b"bob" not in saved  # nothing says who asked
    entries = (folder / "memory" / "entries.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in entries] == [{"documents": ["payroll"]}] * 2


def test_a_word_two_people_asked_may_expand_the_document(store, payroll_index, tmp_path):
    _choose(store, payroll_index, LEAK, "alice")
    _choose(store, payroll_index, "embezzlement case and salary payments", "carol")
    learned, folder = _learned(store, payroll_index, tmp_path)
    # "embezzlement" was asked by alice and carol: k = 2 distinct people, the term may expand
    # payroll; every other word of either question was one person's and stays out
    assert learned.memory.terms == {"payroll": {"embezzlement": 2}}
    assert "payroll" in _found(learned, "embezzlement")
    assert "payroll" not in _found(learned, "investigation")  # alice's word alone
    saved = _text_in(folder)
    assert LEAK.encode() not in saved and b"investigation" not in saved and b"alice" not in saved
