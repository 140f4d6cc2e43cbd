"""Feedback and questions are personal data: what one person may see of the query log (their
own questions), what only admins may see (everyone's), and erasing one person's questions.

The store's ``queries_of``, ``export`` and ``forget`` are these functions on its engine; the
interfaces (the app's pages, the REST API) call those and never show one person another's
question text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from lifecycle.feedback.schema import answers, clicks, queries, shown, votes
from lifecycle.identity import User


class AdminOnly(PermissionError):
    """Everyone's feedback is for admins only."""


@dataclass(frozen=True)
class QueryRecord:
    """One question someone asked, as its asker may see it again."""

    query_id: int
    query: str
    created_at: datetime
    index_version: str
    method: str
    source: str
    n_results: int


def require_admin(requester: User, action: str) -> None:
    if not requester.admin:
        raise AdminOnly(f"{requester.name} is not an admin: only admins may {action}")


def _whose(user: str | None, session_id: str | None) -> tuple[str, str]:
    """(column, value) naming one asker: a signed-in user, or one anonymous session."""
    if (user is None) == (session_id is None):
        raise ValueError("name one asker: a user or a session_id")
    return ("user_name", user) if user is not None else ("session_id", session_id)


def queries_of(
    conn: Connection, user: str | None, session_id: str | None, limit: int
) -> list[QueryRecord]:
    column, who = _whose(user, session_id)
    stmt = (
        select(queries)
        .where(queries.c[column] == who)
        .order_by(queries.c.id.desc())
        .limit(max(0, limit))
    )
    return [
        QueryRecord(r.id, r.query, r.created_at, r.index_version, r.method, r.source, r.n_results)
        for r in conn.execute(stmt)
    ]


def json_row(row: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def erase(conn: Connection, user: str | None, session_id: str | None) -> int:
    """Delete one asker's queries and answers and every row that hangs off them (explicitly:
    an engine handed in may not enforce SQLite's foreign keys). Returns how many queries and
    answers went."""
    column, who = _whose(user, session_id)
    asked = select(queries.c.id).where(queries.c[column] == who)
    answered = select(answers.c.id).where(answers.c[column] == who)
    conn.execute(delete(votes).where(votes.c.query_id.in_(asked) | votes.c.answer_id.in_(answered)))
    conn.execute(delete(clicks).where(clicks.c.query_id.in_(asked)))
    conn.execute(delete(shown).where(shown.c.query_id.in_(asked)))
    gone = conn.execute(delete(answers).where(answers.c[column] == who)).rowcount or 0
    # another person's chat answer built on one of these retrievals keeps its text, unlinked
    conn.execute(update(answers).where(answers.c.query_id.in_(asked)).values(query_id=None))
    return gone + (conn.execute(delete(queries).where(queries.c[column] == who)).rowcount or 0)
