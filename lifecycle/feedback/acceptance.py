"""What feedback the server accepts, so that feedback cannot be forged.

A click or a vote names a query id and a document. It is accepted only when the server's own
record says that query belongs to the one clicking (its session, or its signed-in user) and
that the document was among the results shown for it; the rank stored is the one the server
showed it at, never one the caller sends. Every refusal is a ``FeedbackRejected`` whose message
names the bad parameter, so an interface can answer it as a client error (HTTP 400/404) and
never with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from lifecycle.feedback.schema import answers, queries, shown, votes

CLICK_KINDS = ("open", "preview", "download", "citation")
VOTE_VALUES = (-1, 0, 1)  # thumbs-down, withdrawn, thumbs-up
MAX_ID = 2**63 - 1  # the largest id a database column holds
MAX_DOC_ID = 2048


class FeedbackRejected(ValueError):
    """A click, vote or comment the server does not accept; the message says which part and why."""


@dataclass(frozen=True)
class Actor:
    """Who sends the feedback: a browser session, a signed-in user, or both. Neither is the
    server itself replaying what it just logged (a simulator, a test): such a caller is
    trusted with the queries it logged, and interfaces must always say who is acting."""

    session_id: str | None = None
    user: str | None = None

    def owns(self, session_id: str, user_name: str | None) -> bool:
        """Whether a query or answer logged for (session_id, user_name) is this actor's."""
        if self.session_id is None and self.user is None:
            return True
        same_user = self.user is not None and user_name is not None and self.user == user_name
        return same_user or (self.session_id is not None and self.session_id == session_id)


def _digits(text: str, most: int = len(str(MAX_ID))) -> bool:
    """At most ``most`` ASCII digits ("²" is a digit to ``isdigit``, not to ``int``; ``int``
    refuses strings over 4,300 digits with an error of its own)."""
    return text.isascii() and text.isdigit() and len(text) <= most


def as_id(value: object, what: str) -> int:
    """A database id from an int or a string of digits; anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FeedbackRejected(f"{what} must be a whole number, not {type(value).__name__}")
    text = str(value).strip()
    if not _digits(text) or not 0 < int(text) <= MAX_ID:
        raise FeedbackRejected(f"{what} {text[:30]!r} is not a valid id")
    return int(text)


def check_kind(kind: object) -> str:
    if kind not in CLICK_KINDS:
        raise FeedbackRejected(f"click kind {kind!r} is not one of {', '.join(CLICK_KINDS)}")
    return str(kind)


def check_vote(value: object) -> int:
    if isinstance(value, bool) or value not in VOTE_VALUES:
        raise FeedbackRejected(f"A vote is +1, -1 or 0 (withdrawn), not {value!r}")
    return int(value)


def owned_query(conn: Connection, query_id: int, actor: Actor) -> Row:
    row = conn.execute(
        select(queries.c.id, queries.c.session_id, queries.c.user_name).where(
            queries.c.id == query_id
        )
    ).first()
    if row is None:
        raise FeedbackRejected(f"unknown query id {query_id}: search first, then give feedback")
    if not actor.owns(row.session_id, row.user_name):
        raise FeedbackRejected(
            f"query {query_id} was not asked in this session or by this user; feedback is "
            "accepted only on one's own results"
        )
    return row


def owned_answer(conn: Connection, answer_id: int, actor: Actor) -> Row:
    row = conn.execute(
        select(answers.c.id, answers.c.session_id, answers.c.user_name).where(
            answers.c.id == answer_id
        )
    ).first()
    if row is None:
        raise FeedbackRejected(f"unknown answer id {answer_id}")
    if not actor.owns(row.session_id, row.user_name):
        raise FeedbackRejected(
            f"answer {answer_id} was not given in this session or to this user; feedback is "
            "accepted only on one's own answers"
        )
    return row


def shown_rank(conn: Connection, query_id: int, doc_id: object) -> int:
    """The rank at which the server showed ``doc_id`` for the query (its best, if several)."""
    if not isinstance(doc_id, str) or not doc_id or len(doc_id) > MAX_DOC_ID:
        raise FeedbackRejected("doc_id must name a document shown for the query")
    rank = conn.execute(
        select(shown.c.rank)
        .where(shown.c.query_id == query_id, shown.c.doc_id == doc_id)
        .order_by(shown.c.rank)
    ).scalar()
    if rank is None:
        raise FeedbackRejected(f"document {doc_id[:80]!r} was not shown for query {query_id}")
    return int(rank)


def check_rank(given: object, rank: int, doc_id: str) -> None:
    """A rank the caller sends is only checked against the record, never stored."""
    if given is None:
        return
    text = str(given)
    if isinstance(given, bool) or not isinstance(given, int | str) or not _digits(text, 4300):
        raise FeedbackRejected(f"rank {text[:30]!r} is not a rank")
    if int(text) != rank:
        raise FeedbackRejected(
            f"rank {str(given)[:30]} is wrong: {doc_id[:80]!r} was shown at rank {rank}"
        )


def vote_in_force(
    conn: Connection, query_id: int | None, answer_id: int | None, doc_id: str | None
) -> Row | None:
    """The latest vote on a result (query and document) or an answer, if any."""
    where = (
        [votes.c.answer_id == answer_id]
        if answer_id is not None
        else [votes.c.query_id == query_id, votes.c.doc_id == doc_id]
    )
    return conn.execute(
        select(votes.c.id, votes.c.value).where(*where).order_by(votes.c.id.desc()).limit(1)
    ).first()
