"""The leakage matrix through the Python services: for every person and every path (search
by each method, snippets, the memory's recall, chat retrieval and citations, the document
page, its file, similar documents), nothing they may not read, and no code word of it."""

from __future__ import annotations

import pytest

from lifecycle.access import current_policy, enforce
from lifecycle.conversation import ask
from lifecycle.documents import document_file, read_document, search_as, similar_documents
from lifecycle.readers import NotFound, new_session
from search.retrieval import ChoiceMemory
from tests.access.conftest import CODEWORDS, DOCS, MAY_READ, PEOPLE

QUERIES = ["quarterly report", "salaries board minutes budget", "keys vpn leave", "codeword"]


@pytest.fixture
def served(access_home, store):
    """The index under the policy, remembering that someone chose every document for a
    question: the memory would recall them all if it ignored access."""
    settings, index_store, version = access_home
    index = enforce(index_store.load(version), current_policy(settings).policy)
    memory = ChoiceMemory.build({q: sorted(DOCS) for q in QUERIES}, index.encoder)
    return settings, index.with_memory(memory), store, version


def _leaks(person: str, text: str) -> list[str]:
    return [w for d, w in CODEWORDS.items() if d not in MAY_READ[person] and w in text]


@pytest.mark.parametrize("person", sorted(PEOPLE))
@pytest.mark.parametrize("method", ["hybrid", "bm25", "dense"])
def test_search_returns_exactly_what_the_person_may_read(served, person, method):
    settings, index, store, version = served
    reader = PEOPLE[person]
    page = search_as(
        index,
        store,
        reader,
        "quarterly report codeword",
        session_id=new_session(reader),
        version=version,
        k=len(DOCS),
        method=method,
        weaker=True,  # every match, however weak: the floor is not what is tested here
    )
    found = {r.doc_id for r in page.results}
    # every document says "quarterly report": each one the person may read is found, no other
    assert found == MAY_READ[person]
    snippets = " ".join(r.snippet.text for r in page.results)
    assert _leaks(person, snippets) == []
    if method == "hybrid":  # the memory recalled every readable document, and only those
        assert {r.doc_id for r in page.results if r.memory_score} == MAY_READ[person]


@pytest.mark.parametrize("person", sorted(PEOPLE))
def test_chat_retrieves_and_cites_only_readable_passages(served, person):
    settings, index, store, version = served
    reader = PEOPLE[person]
    turn = ask(
        index,
        store,
        "what does the quarterly report say about salaries, budget and keys?",
        reader=reader,
        session_id=new_session(reader),
        version=version,
    )
    assert {p.doc_id for p in turn.answer.sources} <= MAY_READ[person]
    assert {p.doc_id for p in turn.answer.cited()} <= MAY_READ[person]
    assert _leaks(person, turn.answer.text + " ".join(p.text for p in turn.answer.sources)) == []


@pytest.mark.parametrize("person", sorted(PEOPLE))
def test_documents_files_and_neighbours_only_when_readable(served, person):
    settings, index, store, version = served
    reader = PEOPLE[person]
    missing = "no document 'nowhere.md' in the index being served; search again"
    with pytest.raises(NotFound) as err:
        read_document(index, reader, "nowhere.md")
    assert str(err.value) == missing
    for doc_id in DOCS:
        if doc_id in MAY_READ[person]:
            assert CODEWORDS[doc_id] in read_document(index, reader, doc_id).text
            assert document_file(index, reader, doc_id, settings.docs).name == doc_id.split("/")[-1]
            similar = similar_documents(index, reader, doc_id, k=len(DOCS))
            assert {r.doc_id for r in similar} == MAY_READ[person] - {doc_id}
            continue
        for call, extra in (
            (read_document, ()),
            (document_file, (settings.docs,)),
            (similar_documents, ()),
        ):
            with pytest.raises(NotFound) as err:
                call(index, reader, doc_id, *extra)
            # worded as for a document that does not exist: its existence is not revealed
            assert str(err.value) == missing.replace("nowhere.md", doc_id)
