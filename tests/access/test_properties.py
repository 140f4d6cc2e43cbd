"""Property: whatever the policy, the reader and the query, a restricted search equals the
unrestricted ranking restricted to what the reader may read (each retriever's list; hybrid
fuses those restricted lists), and never returns anything else."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.documents import restricted
from lifecycle.identity import User
from search.access import Policy, Rule
from search.retrieval import min_max
from search.retrieval.fusion import z_score
from tests.access.conftest import DOCS

PATHS = ["hr", "hr/payroll", "finance", "it", "**/board", "*.md", "it/secret-*.md", "sales"]
PRINCIPALS = ["everyone", "user:ann", "user:bea", "group:hr", "group:board", "group:finance"]
WORDS = ["quarterly", "report", "salaries", "board", "budget", "vpn", "keys", "leave", "zzz"]

principal_sets = st.frozensets(st.sampled_from(PRINCIPALS), max_size=3)
rules = st.lists(
    st.tuples(st.sampled_from(PATHS), principal_sets), max_size=5, unique_by=lambda r: r[0]
)
policies = st.builds(
    lambda default, found: Policy(
        default, tuple(Rule(p, allow, order=i) for i, (p, allow) in enumerate(found))
    ),
    principal_sets,
    rules,
)
readers = st.builds(
    User,
    st.sampled_from(["ann", "bea", "carl"]),
    st.frozensets(st.sampled_from(["hr", "board", "finance", "sales"]), max_size=2),
    st.just(False),
)
queries = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)


@pytest.fixture(scope="module")
def plain_index(built_corpus):
    from search.index import IndexStore

    _, settings, version = built_corpus
    return IndexStore(settings.index_root()).load(version)


def _ranked(results):
    return [(r.doc_id, pytest.approx(r.score, abs=1e-6)) for r in results]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(policy=policies, reader=readers, query=queries, k=st.integers(1, len(DOCS)))
def test_restricted_search_is_the_full_ranking_restricted(plain_index, policy, reader, query, k):
    index = plain_index.with_access(policy.readers_of(plain_index.documents), policy.hash)
    readable = {d for d in DOCS if policy.may_read(reader.principals(), d, {"path": d})}
    mine = restricted(None, reader)
    full = {
        m: plain_index.search_many({"q": query}, len(DOCS), m, with_snippets=False)["q"]
        for m in ("bm25", "dense")
    }
    for method in ("bm25", "dense"):
        expected = [r for r in full[method] if r.doc_id in readable][:k]
        got = index.search(query, k=k, method=method, filters=mine)
        assert _ranked(got) == [(r.doc_id, r.score) for r in expected]
    hybrid = index.search(query, k=k, method="hybrid", filters=mine)
    assert {r.doc_id for r in hybrid} <= readable
    weight = index.config.dense_weight
    lists = [
        {r.doc_id: r.score for r in full[m] if r.doc_id in readable} for m in ("bm25", "dense")
    ]
    default = min_max(z_score(lists, [1 - weight, weight]))  # the default fusion (zscore)
    fused = sorted(default.items(), key=lambda x: (-x[1], x[0]))[:k]
    assert _ranked(hybrid) == [(d, s) for d, s in fused]
