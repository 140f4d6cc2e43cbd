"""Documents that another document of the index says it replaces.

A document that replaces an older one usually says so in its first lines: "Version 3.0,
effective date: 1 January 2025. Replaces the circular on travel and expenses of 1 March 2023";
"effective date: 1 January 2025 · replaces all earlier parking information". An older document
counts as replaced when a newer one's first lines say it "replaces" or "supersedes" something,
and

- that something carries a date, and it is the older document's own date (the date its first
  lines state, as ``search.ingest.dates`` reads a document's date), or
- it is "all earlier ..." or "all previous ...", the older document's date is before the newer
  one's, and its title shares a word with what is replaced ("parking").

Nothing else is guessed: two documents on one subject with different dates are both kept when
neither says it replaces the other. The chat does not quote a replaced document beside the one
that replaced it (``search.chat.turn.answer_from``); the search service marks it on the result
list with the replacing documents the reader may open (``with_replacements``).
"""

from __future__ import annotations

import dataclasses
import re
import threading
import weakref
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from search.chat.questions import stems
from search.index import SearchIndex, SearchResult
from search.ingest.dates import TEXT_HEAD_CHARS, date_in_text
from search.retrieval import Filters

_REPLACES = re.compile(r"\b(?:replaces|supersedes)\b([^.\n*]{0,160})", re.IGNORECASE)
_EVERY_EARLIER = re.compile(r"\ball\s+(?:earlier|previous|former|older)\b", re.IGNORECASE)
_BY_INDEX: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def replacements(heads: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Each replaced document's id -> the ids of the documents that say they replace it;
    ``heads``: each document's id -> (title, text from its start). Older documents are looked
    up by their date and by their titles' words, never compared pair by pair, so a corpus where
    many documents say what they replace costs little more than one where few do."""
    statements = {
        newer: [_Statement.of(m.group(1)) for m in _REPLACES.finditer(text[:TEXT_HEAD_CHARS])]
        for newer, (_, text) in heads.items()
    }
    statements = {newer: said for newer, said in statements.items() if said}
    if not statements:
        return {}
    dated = {d: date_in_text(text) for d, (_, text) in heads.items()}
    by_date: dict[date, list[str]] = defaultdict(list)
    by_word: dict[str, list[str]] = defaultdict(list)
    for doc_id, when in dated.items():
        if when is not None:
            by_date[when.date()].append(doc_id)
            for stem in stems(heads[doc_id][0]):
                by_word[stem].append(doc_id)
    out: dict[str, list[str]] = defaultdict(list)
    for newer, said in statements.items():
        named: set[str] = set()
        for statement in said:
            if statement.stated is not None:
                named.update(by_date.get(statement.stated.date(), ()))
            elif statement.every_earlier and dated[newer] is not None:
                on_subject = {d for stem in statement.subject for d in by_word.get(stem, ())}
                named.update(d for d in on_subject if dated[d] < dated[newer])
        for older in sorted(named - {newer}):
            out[older].append(newer)
    return {older: tuple(newer) for older, newer in out.items()}


@dataclasses.dataclass(frozen=True)
class _Statement:
    """What one "replaces ..." names: a date, or all earlier documents on a subject."""

    stated: datetime | None  # the date it names
    every_earlier: bool  # "all earlier ...", "all previous ..."
    subject: frozenset[str]  # the stems of what it names, "all earlier" aside

    @classmethod
    def of(cls, what: str) -> _Statement:
        earlier = bool(_EVERY_EARLIER.search(what))
        return cls(date_in_text(what), earlier, frozenset(stems(_EVERY_EARLIER.sub(" ", what))))


def corpus_replacements(index: SearchIndex) -> Mapping[str, tuple[str, ...]]:
    """``replacements`` over every document of ``index``, worked out once per index."""
    with _LOCK:
        found = _BY_INDEX.get(index)
    if found is None:
        heads = {}
        for doc_id, document in index.documents.items():
            chunks = index.chunks_of(doc_id)
            heads[doc_id] = (document.get("title", ""), chunks[0].text if chunks else "")
        found = replacements(heads)
        with _LOCK:
            _BY_INDEX[index] = found
    return found


def replaced_among(index: SearchIndex, doc_ids: Sequence[str]) -> set[str]:
    """The ones of ``doc_ids`` that another of them says it replaces."""
    replacing = corpus_replacements(index)
    shown = set(doc_ids)
    return {d for d in shown if shown.intersection(replacing.get(d, ()))}


def with_replacements(
    index: SearchIndex, results: Sequence[SearchResult], filters: Filters | None
) -> list[SearchResult]:
    """``results``, each replaced one naming (id, title) the replacing documents that the reader
    ``filters`` describes may open; a document the reader may not open is never named."""
    replacing = corpus_replacements(index)
    if not replacing:
        return list(results)
    out = []
    for result in results:
        newer = tuple(
            (d, index.documents[d].get("title") or d)
            for d in replacing.get(result.doc_id, ())
            if _readable(index, d, filters)
        )
        out.append(dataclasses.replace(result, replaced_by=newer) if newer else result)
    return out


def _readable(index: SearchIndex, doc_id: str, filters: Filters | None) -> bool:
    if filters is None:
        return index.is_readable(doc_id, None)
    if not index.is_readable(doc_id, filters.principals):
        return False
    metadata = index.documents[doc_id].get("metadata") or {}
    return filters.allow is None or bool(filters.allow(metadata))
