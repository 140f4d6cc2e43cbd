"""Per-document access inside retrieval: bitmaps per principal, enforced before ranking."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.config import IndexConfig
from search.encoding import HashingEncoder
from search.index import MANIFEST, AccessTable, IndexLoadError, SearchIndex, read_manifest
from search.ingest import Document
from search.retrieval import ChoiceMemory, Filters, min_max, rrf, weighted
from search.retrieval.fusion import z_score

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=32, chunk_overlap=8)
OLD = Path(__file__).parents[2] / "fixtures" / "index_v1" / "index"
READERS = {
    "d1": ["group:hr"],
    "d2": ["everyone"],
    "d3": ["user:alice", "group:finance"],
    "d4": ["everyone", "group:hr"],
    # d5 and d6 missing: readable by nobody
}


def test_bitmaps_by_hand():
    table = AccessTable.build(READERS, ["d1", "d2", "d3", "d4", "d5", "d6"], "policy-1")
    assert table.principals == ("everyone", "group:finance", "group:hr", "user:alice")
    # bits little-endian over rows d1..d6: everyone = d2, d4 -> 0b001010 = 10
    assert table.bits[0].tolist() == [0b001010]
    assert table.mask({"group:hr"}).tolist() == [True, False, False, True, False, False]
    # alice holds everyone and her own name: d2, d3, d4
    alice = table.mask({"everyone", "user:alice"})
    assert alice.tolist() == [False, True, True, True, False, False]
    assert table.mask({"user:nobody"}).tolist() == [False] * 6
    assert table.readable(2, {"group:finance"}) and not table.readable(4, {"everyone"})
    assert table.readers_of(3) == {"everyone", "group:hr"}
    assert table.describe() == {"policy_hash": "policy-1", "principals": 4}
    with pytest.raises(ValueError, match="not the string 'everyone'"):
        AccessTable.build({"d1": "everyone"}, ["d1"], "p")
    with pytest.raises(ValueError, match="policy_hash"):
        AccessTable.build({}, ["d1"], "")


def test_search_returns_only_what_the_principals_may_read(index):
    guarded = index.with_access(READERS, "policy-1")
    assert guarded.dense is index.dense and guarded.sparse is index.sparse  # nothing rebuilt
    hr = Filters.of(principals={"everyone", "group:hr"})
    for method in ("bm25", "dense", "hybrid"):
        found = {r.doc_id for r in guarded.search("leave vpn expense", k=6, method=method)}
        assert found <= {f"d{i}" for i in range(1, 7)}
        allowed = {r.doc_id for r in guarded.search("leave vpn", k=6, method=method, filters=hr)}
        assert allowed <= {"d1", "d2", "d4"} and allowed
    assert guarded.search("vpn", filters=Filters.of(principals=set())) == []
    # combined with a metadata filter: d1 is hr's, but its path is not under "d2"
    both = Filters.of(principals={"everyone", "group:hr"}, path_prefix="d2")
    assert {r.doc_id for r in guarded.search("leave vpn error", k=6, filters=both)} == {"d2"}
    assert guarded.is_readable("d1", {"group:hr"}) and not guarded.is_readable("d1", {"everyone"})
    assert not guarded.is_readable("d5", {"everyone", "group:hr", "user:alice"})
    assert guarded.is_readable("d5", None)  # no principals given: no restriction
    assert not guarded.is_readable("missing", None)


def _corpus(n: int) -> list[Document]:
    return [
        Document(f"doc{i:03d}", f"Report {i}", f"The quarterly budget report number {i}.", {})
        for i in range(n)
    ]


def test_a_user_allowed_one_percent_still_gets_k_results(hashing_encoder):
    docs = _corpus(300)
    index = SearchIndex.build(docs, CONFIG, hashing_encoder)
    mine = {"doc017", "doc123", "doc298"}  # 1% of 300
    guarded = index.with_access({d: ["user:bob"] for d in mine}, "p")
    bob = Filters.of(principals={"everyone", "user:bob"})
    for method in ("bm25", "dense", "hybrid"):
        # every document matches "budget report": a filter after ranking would keep at most
        # the few of bob's that happened to rank in the top 3; inside retrieval he gets all 3
        results = guarded.search("quarterly budget report", k=3, method=method, filters=bob)
        assert {r.doc_id for r in results} == mine


def test_access_is_saved_listed_and_checksummed(index, hashing_encoder, tmp_path):
    guarded = index.with_access(READERS, "sha256:abc")
    folder = guarded.save(tmp_path / "idx")
    manifest = read_manifest(folder)
    assert manifest["access"] == {"policy_hash": "sha256:abc", "principals": 4}
    assert {"access/principals.json", "access/readers.npy"} <= set(manifest["files"])
    loaded = SearchIndex.load(folder, hashing_encoder)
    assert loaded.access.describe() == guarded.access.describe()
    hr = Filters.of(principals={"group:hr"})
    assert loaded.run({"q": "leave"}, k=6) == guarded.run({"q": "leave"}, k=6)
    assert loaded.run({"q": "leave"}, k=6, filters=hr) == guarded.run(
        {"q": "leave"}, k=6, filters=hr
    )
    # rebuilt views of the index keep the policy: a challenger never drops access control
    assert loaded.with_encoder(hashing_encoder).access is loaded.access
    remembering = loaded.with_memory(ChoiceMemory.build({"leave": ["d1"]}, hashing_encoder))
    assert remembering.access is loaded.access
    # the bitmap file edited after the fact: refused
    readers = folder / "access" / "readers.npy"
    data = bytearray(readers.read_bytes())
    data[-1] ^= 0xFF
    readers.write_bytes(bytes(data))
    with pytest.raises(IndexLoadError, match="readers.npy"):
        SearchIndex.load(folder, hashing_encoder)


def test_a_version_without_access_lets_everyone_read_everything():
    old = SearchIndex.load(OLD, HashingEncoder(dim=128))  # written before access existed
    assert old.access is None and "access" not in json.loads((OLD / MANIFEST).read_text())
    anyone = Filters.of(principals={"user:nobody"})
    assert old.run({"q": "leave"}, k=6, filters=anyone) == old.run({"q": "leave"}, k=6)
    assert old.is_readable("d1", {"user:nobody"})


def test_memory_never_recalls_what_the_user_may_not_read(index):
    question = "which page explains the shelfrunner maintenance schedule"
    remembering = index.with_memory(ChoiceMemory.build({question: ["d6"]}, index.encoder))
    guarded = remembering.with_access({d: ["everyone"] for d in ("d1", "d2", "d3")}, "p")
    assert remembering.search(question, k=1)[0].doc_id == "d6"  # recalled for everybody
    results = guarded.search(question, k=6, filters=Filters.of(principals={"everyone"}))
    assert {r.doc_id for r in results} <= {"d1", "d2", "d3"}
    assert all(r.memory_score is None for r in results)


# ------------------------------------------------------------------------------- property
WORDS = ["leave", "budget", "vpn", "error", "policy", "travel", "laptop", "salary", "audit"]
PRINCIPALS = ["everyone", "group:hr", "group:it", "user:ann", "user:bo"]
N_DOCS = 12


def _property_index() -> SearchIndex:
    rng = np.random.default_rng(7)
    docs = [
        Document(f"d{i:02d}", f"title {WORDS[i % len(WORDS)]}", " ".join(rng.choice(WORDS, 12)), {})
        for i in range(N_DOCS)
    ]
    return SearchIndex.build(docs, CONFIG, HashingEncoder(dim=64))


PROPERTY_INDEX = _property_index()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    readers=st.lists(
        st.sets(st.sampled_from(PRINCIPALS), max_size=3), min_size=N_DOCS, max_size=N_DOCS
    ),
    principals=st.sets(st.sampled_from(PRINCIPALS), max_size=3),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
)
def test_filtered_results_are_the_full_ranking_restricted(readers, principals, query):
    index = PROPERTY_INDEX
    assigned = {d: r for d, r in zip(index.doc_ids, readers, strict=True) if r}
    guarded = index.with_access(assigned, "p")
    readable = {d for d, r in assigned.items() if r & principals}
    user = Filters.of(principals=principals)
    k = N_DOCS  # both lists complete
    full = {m: guarded.run({"q": query}, k=k, method=m)["q"] for m in ("bm25", "dense")}
    for method in ("bm25", "dense"):
        got = guarded.run({"q": query}, k=k, method=method, filters=user)["q"]
        expected = {d: s for d, s in full[method].items() if d in readable}
        assert list(got) == list(expected)  # same documents, same order
        assert list(got.values()) == pytest.approx(list(expected.values()))
    # hybrid fuses each retriever's ranking restricted to what the user may read (weighted
    # fusion normalises over those documents only: scores never depend on unreadable ones)
    sparse, dense = ({d: s for d, s in full[m].items() if d in readable} for m in ("bm25", "dense"))
    for fusion, fused in (
        ("weighted", weighted([sparse, dense], [0.5, 0.5])),
        ("rrf", rrf([sparse, dense], k=60)),
        ("zscore", min_max(z_score([sparse, dense], [0.5, 0.5]))),
    ):
        got = guarded.run({"q": query}, k=k, method="hybrid", fusion=fusion, filters=user)["q"]
        assert set(got) == set(fused)
        assert got == pytest.approx(fused)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        assert [d for d, _ in ranked] == list(got)
