"""What a reader may see: search results, a document's text and file, similar documents.

Every interface (the app's pages, the REST API, ``docsearch search``) calls these,
so one rule holds everywhere: retrieval is restricted to the reader's principals inside the
index, before ranking (``Filters.principals``), and a document the reader may not read is
``NotFound``, worded exactly like one that is not indexed.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from lifecycle.experiments.live import LiveExperiment, search_and_log_live
from lifecycle.feedback import FeedbackStore
from lifecycle.feedback.logged_search import served_results
from lifecycle.originals import OriginalFile, documents_root, original_file
from lifecycle.readers import NotFound, Reader
from search.config import Method
from search.index import ResultPage, SearchIndex, SearchResult
from search.retrieval import Filters
from search.retrieval.forgiving import Forgiven

SIMILAR_QUERY_CHARS = 2000  # of a document's title and first passage, to find its neighbours


def restricted(filters: Filters | None, reader: Reader) -> Filters:
    """``filters`` narrowed to what ``reader`` may read."""
    return dataclasses.replace(filters or Filters(), principals=reader.principals())


@dataclass(frozen=True)
class Page:
    """One page of results for a logged query (ranks count from the first page)."""

    query_id: int
    index_version: str
    took_ms: float
    results: list[SearchResult]
    did_you_mean: str | None = None  # the query in the corpus's spelling, when it differs
    corrected_query: str | None = None  # set when the results are for it, not the query
    # the relevance floor (search.retrieval.relevance): results below it are held back
    # unless asked for (``weaker``); ``found`` counts what can be paged through
    found: int = 0
    held_back: int = 0
    floor: float | None = None
    good_match: bool = True  # whether the best result reaches the floor (the same on every page)


def search_as(
    index: SearchIndex,
    store: FeedbackStore,
    reader: Reader,
    query: str,
    *,
    session_id: str,
    version: str,
    k: int = 10,
    offset: int = 0,
    method: Method | str | None = None,
    filters: Filters | None = None,
    source: str = "search",
    experiment: LiveExperiment | None = None,
    weaker: bool = False,
    correct: bool = True,
) -> Page:
    """Results ``offset+1 .. offset+k`` of ``query`` among what ``reader`` may read, logged in
    the feedback store as the reader's session; misspelled queries are corrected from the
    corpus's vocabulary (``Page.did_you_mean``, ``Page.corrected_query``). Results below the
    relevance floor are held back (``Page.held_back`` says how many) unless ``weaker``;
    ``correct=False`` searches the query exactly as typed. While an ``experiment`` runs, its
    share of searches is answered as it says (an interleaving of champion and challenger, or a
    canary's version: ``lifecycle.experiments.live``), each version's results restricted to
    the reader and cut at its floor alike."""
    started = time.perf_counter()
    routed = search_and_log_live(
        experiment,
        index,
        store,
        query,
        session_id,
        version,
        k=offset + k,
        method=method,
        filters=restricted(filters, reader),
        source=source,
        weaker=weaker,
        correct=correct,
    )
    query_id, found = routed.query_id, routed.found
    took_ms = (time.perf_counter() - started) * 1000
    page = found.results
    return Page(
        query_id,
        routed.version,
        took_ms,
        page.results[offset:],
        did_you_mean=found.did_you_mean,
        corrected_query=found.corrected_query,
        found=page.found,
        held_back=page.held_back,
        floor=page.floor,
        good_match=page.good_match,
    )


def page_as(
    index: SearchIndex,
    reader: Reader,
    query: str,
    *,
    k: int = 10,
    method: Method | str | None = None,
    filters: Filters | None = None,
    weaker: bool = False,
    correct: bool = True,
) -> Forgiven[ResultPage]:
    """``search_as``'s first ``k`` results, spelling and floor, without logging a query: what a
    page restored from the reader's own logged search (Back, a reload) pages through."""
    return served_results(
        index, query, k, method, restricted(filters, reader), weaker, correct=correct
    )


def facets(index: SearchIndex, reader: Reader) -> tuple[list[str], list[str]]:
    """(formats, folders) of the documents ``reader`` may read: the search page's filter
    choices, which must not name a folder the reader cannot see into."""
    mask = index.selections.masks(restricted(None, reader))[0]
    rows = range(len(index.doc_ids)) if mask is None else mask.nonzero()[0]
    formats, folders = set(), set()
    for row in rows:
        metadata = index.documents[index.doc_ids[row]]["metadata"]
        formats.add(metadata.get("format", ""))
        path = str(metadata.get("path", ""))
        if "/" in path:
            folders.add(path.rsplit("/", 1)[0] + "/")
    return sorted(formats - {""}), sorted(folders)


@dataclass(frozen=True)
class DocumentView:
    """A document as its page shows it."""

    doc_id: str
    title: str
    metadata: dict
    text: str


def _readable(index: SearchIndex, reader: Reader, doc_id: str) -> dict:
    if not index.is_readable(doc_id, reader.principals()):
        raise NotFound(f"no document {doc_id!r} in the index being served; search again")
    return index.documents[doc_id]


def read_document(index: SearchIndex, reader: Reader, doc_id: str) -> DocumentView:
    """The document's title, metadata and indexed text; NotFound unless the reader may read it."""
    info = _readable(index, reader, doc_id)
    return DocumentView(doc_id, info["title"], info["metadata"], index.document_text(doc_id))


def document_file(
    index: SearchIndex,
    reader: Reader,
    doc_id: str,
    docs_root: Path,
    sources_root: Path | None = None,
) -> OriginalFile:
    """The document's original file, to be read through its checks (``OriginalFile.open``:
    only the bytes that were indexed, ``Changed`` otherwise); NotFound unless the reader may
    read the document and it came from a file of the folder it was indexed from (else of
    ``docs_root``, the configured one) or, for a connected source's document, from its copy
    in the source's mirror under ``sources_root``."""
    info = _readable(index, reader, doc_id)
    found = original_file(documents_root(index, docs_root), doc_id, info["metadata"], sources_root)
    if found is None:
        raise NotFound(f"the original file of {doc_id!r} is not in the documents folder")
    return found


def similar_documents(
    index: SearchIndex, reader: Reader, doc_id: str, k: int = 5
) -> list[SearchResult]:
    """Up to ``k`` documents nearest to ``doc_id`` by meaning (its title and first passage as
    the query, dense retrieval), among what the reader may read; NotFound unless the reader may
    read ``doc_id`` itself."""
    info = _readable(index, reader, doc_id)
    chunks = index.chunks_of(doc_id)
    query = f"{info['title']}\n{chunks[0].text if chunks else ''}"[:SIMILAR_QUERY_CHARS]
    found = index.search(query, k=k + 1, method=Method.DENSE, filters=restricted(None, reader))
    others = [r for r in found if r.doc_id != doc_id][:k]
    return [dataclasses.replace(r, rank=rank) for rank, r in enumerate(others, start=1)]
