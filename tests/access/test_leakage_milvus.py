"""The leakage matrix of ``test_leakage`` (every person, every path: search by each method,
snippets, the memory's recall, chat, the document page, its file, similar documents) with the
version's indexes in Milvus (Milvus Lite, this module's own file): the access tables filter
Milvus's searches as they filter FAISS's and bm25s's."""

from __future__ import annotations

import pytest

from search.retrieval.milvus import connection
from tests.access.conftest import CONFIG, DOCS, write_docs
from tests.access.test_leakage import (  # noqa: F401 - collected here, on Milvus
    QUERIES,
    test_chat_retrieves_and_cites_only_readable_passages,
    test_documents_files_and_neighbours_only_when_readable,
    test_search_returns_exactly_what_the_person_may_read,
)


@pytest.fixture(scope="module")
def built_corpus(tmp_path_factory):
    """The corpus built under its policy on the Milvus backend, once for this module (the
    database file outside the home, which each test copies)."""
    from lifecycle.builds import build_version, read_folder
    from search.config import IndexConfig
    from search.index import IndexStore
    from search.settings import Settings

    root = tmp_path_factory.mktemp("access-milvus")
    docs, home = write_docs(root / "docs"), root / "home"
    uri = str(root / "milvus.db")
    settings = Settings(
        home=home, docs=docs, model="hashing-128", index_backend="milvus", milvus_uri=uri
    )
    store = IndexStore(settings.index_root())
    config = IndexConfig(**CONFIG, **settings.index_backend_fields())
    built = build_version(settings, read_folder(settings, docs), store, config, activate=True)
    index = store.load(built.version)
    assert sorted(index.documents) == sorted(DOCS)
    assert index.dense.describe()["backend"] == "milvus"
    assert index.access is not None and index.sparse.describe()["backend"] == "milvus"
    yield root, settings, built.version
    connection.close_all()


@pytest.fixture(scope="module")
def served_once(built_corpus):
    """``test_leakage``'s served index (the policy enforced, a memory that would recall every
    document if it ignored access), made once for the module: each memory is a new BM25
    collection in Milvus. The tests only read it."""
    from lifecycle.access import current_policy, enforce
    from search.index import IndexStore
    from search.retrieval import ChoiceMemory

    _, settings, version = built_corpus
    index = enforce(
        IndexStore(settings.index_root()).load(version), current_policy(settings).policy
    )
    memory = ChoiceMemory.build({q: sorted(DOCS) for q in QUERIES}, index.encoder)
    return settings, index.with_memory(memory), version


@pytest.fixture
def served(served_once, store):
    settings, index, version = served_once
    assert index.sparse.describe()["backend"] == "milvus"  # the memory's BM25 too
    return settings, index, store, version
