"""The choice memory: recall by hand, inside hybrid search, through save/load and rebuilds."""

import json

import numpy as np
import pytest

from lifecycle.builds import keep_learned_state
from search.config import IndexConfig
from search.index import IndexStore, SearchIndex
from search.retrieval import ChoiceMemory, Filters, expansion_terms


class FixedEncoder:
    """Queries encoded from a table of 2-d unit vectors."""

    model_id = "fixed"
    fingerprint = "fixed-v1"
    dim = 2

    def __init__(self, table):
        self.table = table

    def encode_queries(self, texts):
        return np.array([self.table[t] for t in texts], dtype=np.float32)


def test_recall_by_hand():
    encoder = FixedEncoder({"a": [1.0, 0.0], "b": [0.6, 0.8]})
    memory = ChoiceMemory.build({"a": ["d1"], "b": ["d2", "d1"]}, encoder)
    # query (1, 0): cos with a = 1.0 -> strength 1; with b = 0.6 -> (0.6 - 0.5) / 0.5 = 0.2;
    # d1 keeps its strongest recall (1.0)
    # query (0, 1): a = 0.0 is below the threshold; b = 0.8 -> (0.8 - 0.5) / 0.5 = 0.6
    recalled = memory.recall(np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32), 0.5)
    assert recalled[0] == pytest.approx({"d1": 1.0, "d2": 0.2})
    assert recalled[1] == pytest.approx({"d1": 0.6, "d2": 0.6})
    only_d2 = memory.recall(np.array([[1.0, 0.0]], dtype=np.float32), 0.5, allowed={"d2"})
    assert only_d2[0] == pytest.approx({"d2": 0.2})
    empty = ChoiceMemory.build({}, encoder)
    assert len(empty) == 0 and empty.recall(np.zeros((1, 2), dtype=np.float32), 0.5) == [{}]


def test_restricting_keeps_the_stored_vectors():
    encoder = FixedEncoder({"a": [1.0, 0.0], "b": [0.6, 0.8]})
    memory = ChoiceMemory.build({"a": ["d1"], "b": ["d2", "d1"]}, encoder)
    assert memory.restricted_to({"d1", "d2", "d3"}) is memory
    only_d2 = memory.restricted_to({"d2"})  # "a" chose only d1: dropped; "b" keeps d2
    assert only_d2.chosen == [("d2",)]
    # query (0, 1): cos with b's stored vector 0.8 -> (0.8 - 0.5) / 0.5 = 0.6
    assert only_d2.recall(np.array([[0.0, 1.0]], dtype=np.float32), 0.5) == [
        pytest.approx({"d2": 0.6})
    ]


def test_expansion_keeps_only_words_several_people_asked():
    choices = {
        "shelfrunner maintenance schedule": {"d6": {"p1"}, "d2": {"p1"}},
        "When is the Shelfrunner serviced?": {"d6": {"p2"}},
        "shelfrunner maintenance": {"d6": {"p1"}},  # p1 again: still one person
    }
    # d6: "shelfrunner" asked by p1 and p2 (2 people, kept); "maintenance" and "schedule" by
    # p1 alone; "serviced" by p2 alone; "when", "is", "the" are stop words. d2: p1 alone.
    assert expansion_terms(choices) == {"d6": {"shelfrunner": 2}}
    assert expansion_terms(choices, min_askers=1)["d2"] == {
        "maintenance": 1,
        "schedule": 1,
        "shelfrunner": 1,
    }
    # plain document lists say nothing about who asked: nobody is counted, nothing expands
    assert expansion_terms({q: list(docs) for q, docs in choices.items()}) == {}
    memory = ChoiceMemory.build(choices, FixedEncoder(dict.fromkeys(choices, [1.0, 0.0])))
    # BM25 sees each term once per person who used it (2 people: twice)
    assert memory.expansion_by_document() == {"d6": "shelfrunner shelfrunner"}
    assert len(memory) == 3 and not hasattr(memory, "questions")


QUESTION = "which page explains the shelfrunner maintenance schedule"


@pytest.fixture
def remembering(index):
    """The tiny index remembering that two people asked QUESTION and chose d6 (unrelated
    text): its words may expand d6, since two people asked them."""
    assert index.search(QUESTION, k=1)[0].doc_id != "d6"
    memory = ChoiceMemory.build({QUESTION: {"d6": {"p1", "p2"}}}, index.encoder)
    return index.with_memory(memory)


def test_one_persons_words_never_expand_a_document(index):
    alone = index.with_memory(ChoiceMemory.build({QUESTION: {"d6": {"p1"}}}, index.encoder))
    assert alone.memory.expansion_by_document() == {}
    assert "d6" not in {r.doc_id for r in alone.search("shelfrunner", k=6, method="bm25")}
    assert alone.run({"q": QUESTION}, 6, "bm25") == index.run({"q": QUESTION}, 6, "bm25")
    # the question's vector still recalls d6 for the same question (hybrid search)
    assert alone.search(QUESTION, k=1)[0].doc_id == "d6"


def test_hybrid_search_recalls_what_users_chose(remembering, index):
    top = remembering.search(QUESTION, k=3)[0]
    assert top.doc_id == "d6" and top.memory_score == pytest.approx(1.0)
    # dense stays what it was; BM25 now indexes d6 with the words two people used for it
    assert "d6" not in {r.doc_id for r in remembering.search(QUESTION, k=1, method="dense")}
    top_bm25 = remembering.search(QUESTION, k=6, method="bm25")[0]
    assert top_bm25.doc_id == "d6" and top_bm25.memory_score is None
    assert "shelfrunner" not in remembering.document_text("d6").lower()
    # RRF: the memory is a third list, d6 ranked first there with weight 1: 1 / (60 + 1)
    rrf_d6 = {r.doc_id: r for r in remembering.search(QUESTION, k=6, fusion="rrf")}["d6"]
    assert rrf_d6.score >= 1 / 61
    # filters hold for remembered documents too
    hidden = Filters.of(allow=lambda meta: meta["path"] != "d6")
    assert "d6" not in {r.doc_id for r in remembering.search(QUESTION, k=6, filters=hidden)}
    # weight 0 turns the recall off; forgetting the memory gives BM25 its own words back
    remembering.config = remembering.config.replace(memory_weight=0.0)
    assert remembering.search(QUESTION, k=1)[0].memory_score is None
    forgotten = remembering.with_memory(None)
    assert forgotten.memory is None
    bm25 = {"q": QUESTION}, 6, "bm25"
    assert forgotten.run(*bm25) == index.run(*bm25) != remembering.run(*bm25)


def test_memory_survives_save_load_and_rebuilds(remembering, tiny_docs, hashing_encoder, tmp_path):
    remembering.config = remembering.config.replace(dense_weight=0.7)
    store = IndexStore(tmp_path / "store")
    store.write(remembering)
    served = store.load()
    assert served.manifest["memory"]["questions"] == 1
    assert served.search(QUESTION, k=1)[0].doc_id == "d6"
    config = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)
    # documents changed: the rebuild keeps the fitted weight and the memory
    rebuilt = keep_learned_state(SearchIndex.build(tiny_docs[1:], config, hashing_encoder), store)
    assert rebuilt.config.dense_weight == 0.7 and len(rebuilt.memory) == 1
    assert rebuilt.search(QUESTION, k=1)[0].doc_id == "d6"
    # a remembered document that is gone is forgotten
    without_d6 = [d for d in tiny_docs if d.id != "d6"]
    rebuilt = keep_learned_state(SearchIndex.build(without_d6, config, hashing_encoder), store)
    assert rebuilt.memory is None  # nothing left to remember
    assert "d6" not in {r.doc_id for r in rebuilt.search(QUESTION, k=6)}


def test_an_unreadable_memory_does_not_stop_a_rebuild(remembering, tiny_docs, tmp_path):
    store = IndexStore(tmp_path / "store")
    version = store.write(remembering)
    (store.path(version) / "memory" / "vectors.faiss").write_bytes(b"not a faiss index")
    fresh = SearchIndex.build(tiny_docs, remembering.config, remembering.encoder)
    rebuilt = keep_learned_state(fresh, store)
    assert rebuilt is fresh and rebuilt.memory is None


def test_a_memory_saved_before_questions_were_private_loads_without_its_text(remembering, tmp_path):
    """Memory folders of earlier versions held every question's text (entries.jsonl,
    format 1): they still load, the text dropped, and are written back without it."""
    old = tmp_path / "old"
    remembering.memory.save(old)
    (old / "terms.json").unlink()
    (old / "entries.jsonl").write_text(
        json.dumps({"question": QUESTION, "documents": ["d6"]}) + "\n"
    )
    info = json.loads((old / "memory.json").read_text())
    info = {k: info[k] for k in ("questions", "query_fingerprint", "dense_index", "source")}
    (old / "memory.json").write_text(json.dumps(info))  # the old info: no format, no terms

    loaded = ChoiceMemory.load(old)
    assert loaded.chosen == [("d6",)] and loaded.expansion_by_document() == {}
    # the stored vector still recalls: query = the question itself, cosine 1 -> strength 1
    vector = remembering.encoder.encode_queries([QUESTION])
    assert loaded.recall(vector, 0.5) == [pytest.approx({"d6": 1.0})]
    loaded.save(tmp_path / "new")
    for path in (tmp_path / "new").iterdir():
        assert b"shelfrunner" not in path.read_bytes(), path.name
