"""Personal data: a reader's clicks and votes, and everyone's traffic.

Clicks and votes are accepted only on results that were shown to that reader. They land in
the same feedback store, and so the same learning loop, as every other click: the checks keep
one person from voting on another's query, or from planting training labels for documents
they were never shown (or may not read). Questions are personal data: the traffic figures
(``traffic``) are for admins only, and no list of other people's questions leaves this layer
for anyone else.
"""

from __future__ import annotations

import math

from lifecycle import monitoring
from lifecycle.feedback import FeedbackRejected, FeedbackStore, Impression
from lifecycle.readers import NotFound, Reader, owns, require_admin

CLICK_KINDS = ("open", "preview", "download", "citation")


def _shown(store: FeedbackStore, reader: Reader, query_id: int, doc_id: str) -> Impression:
    impression = store.impression(query_id)
    if impression is None or not owns(reader, impression.session_id):
        raise NotFound(f"no query {query_id} of yours; use the query_id your search returned")
    if doc_id not in {s.doc_id for s in impression.shown}:
        raise NotFound(f"{doc_id!r} was not among the results shown for query {query_id}")
    return impression


def own_query(store: FeedbackStore, reader: Reader, query_id: object) -> Impression | None:
    """One of the reader's own logged queries, with what was shown and the votes cast; None
    for someone else's, an unknown or a mangled id (a shared link, a stale bookmark)."""
    try:
        impression = store.impression(query_id)
    except FeedbackRejected:
        return None
    if impression is None or not owns(reader, impression.session_id):
        return None
    return impression


def record_click(
    store: FeedbackStore,
    reader: Reader,
    query_id: int,
    doc_id: str,
    kind: str = "open",
    rank: int | None = None,
) -> int:
    """Log a click on a result the reader was shown; its rank as shown when not given."""
    if kind not in CLICK_KINDS:
        raise ValueError(f"a click is one of {', '.join(CLICK_KINDS)}, not {kind!r}")
    impression = _shown(store, reader, query_id, doc_id)
    if rank is None:
        rank = next(s.rank for s in impression.shown if s.doc_id == doc_id)
    return store.log_click(query_id, doc_id, rank, kind=kind, session_id=impression.session_id)


def record_vote(
    store: FeedbackStore,
    reader: Reader,
    value: int,
    query_id: int,
    doc_id: str,
    comment: str | None = None,
) -> int:
    """A thumbs-up (+1), thumbs-down (-1) or withdrawn vote (0) on a result the reader saw."""
    impression = _shown(store, reader, query_id, doc_id)
    return store.log_vote(
        value,
        query_id=query_id,
        doc_id=doc_id,
        comment=comment,
        session_id=impression.session_id,
    )


def record_answer_vote(
    store: FeedbackStore, reader: Reader, value: int, answer_id: int, comment: str | None = None
) -> int:
    """A vote on a chat answer the reader got (logged under one of the reader's sessions)."""
    from sqlalchemy import select

    from lifecycle.feedback.schema import answers

    with store.engine.connect() as conn:
        row = conn.execute(select(answers.c.session_id).where(answers.c.id == answer_id)).first()
    if row is None or not owns(reader, row.session_id):
        raise NotFound(f"no answer {answer_id} of yours; vote on an answer you got")
    return store.log_vote(value, answer_id=answer_id, comment=comment, session_id=row.session_id)


def traffic(store: FeedbackStore, reader: Reader) -> dict:
    """The monitoring figures, overall and per index version (``lifecycle.monitoring``'s
    definitions), for an admin; Forbidden for anyone else."""
    require_admin(reader)
    frames = monitoring.load_frames(store)
    overall = {k: _number(v) for k, v in monitoring.overall(frames).items()}
    versions = [
        {k: _number(v) for k, v in row.items()}
        for row in monitoring.per_version(frames).to_dict("records")
    ]
    return {"overall": overall, "versions": versions}


def _number(value):
    """JSON-safe: NaN (no data) as None, numpy numbers as Python ones."""
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value
