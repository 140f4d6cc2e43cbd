"""The feedback store: queries, shown results, clicks, votes and chat answers, written and read.

Every ``log_*`` call is one short transaction, so concurrent writers (Streamlit threads, a
feedback simulator in another process) interleave without losing rows. Clicks and votes are
accepted only on results the server showed to the one sending them (``acceptance``). The
tables are in ``lifecycle.feedback.schema``; what the rows mean as labels is
``lifecycle.feedback.labels``.

Feedback and questions are personal data: ``queries_of`` gives one user (or session) their own
questions only; ``export`` and ``rows`` give everything and are for admins and operators;
``forget`` erases what one user or session asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from lifecycle.database import open_database
from lifecycle.feedback import personal
from lifecycle.feedback.acceptance import (
    Actor,
    FeedbackRejected,
    as_id,
    check_kind,
    check_rank,
    check_vote,
    owned_answer,
    owned_query,
    shown_rank,
    vote_in_force,
)
from lifecycle.feedback.labels import Click, Impression, Labels, Shown, Vote, labels_from
from lifecycle.feedback.personal import QueryRecord
from lifecycle.feedback.schema import answers, clicks, metadata, queries, shown, votes
from lifecycle.identity import User
from search.index import SearchResult

FEEDBACK_TABLES = ("queries", "shown", "clicks", "answers", "votes")


class FeedbackStore:
    """Durable record of what people searched, saw, clicked and voted on."""

    def __init__(self, url: str | Engine) -> None:
        self.url = url if isinstance(url, str) else url.url.render_as_string(hide_password=True)
        self.engine = open_database(url)

    def close(self) -> None:
        self.engine.dispose()

    # ----------------------------------------------------------------- writes
    def log_query(
        self,
        *,
        session_id: str,
        query: str,
        index_version: str,
        method: str,
        latency_ms: float,
        results: Sequence[SearchResult],
        k: int = 10,
        source: str = "search",
        filters: dict | None = None,
        user: str | None = None,
    ) -> int:
        """Record a query, who asked it (session, and user when signed in) and the ranked
        results shown for it; returns the query id."""
        with self.engine.begin() as conn:
            query_id = conn.execute(
                insert(queries).values(
                    session_id=session_id,
                    user_name=user,
                    query=query,
                    index_version=index_version,
                    method=method,
                    source=source,
                    k=k,
                    filters=filters or None,
                    latency_ms=float(latency_ms),
                    n_results=len(results),
                    created_at=_now(),
                )
            ).inserted_primary_key[0]
            if results:
                conn.execute(insert(shown), [_shown_row(query_id, r) for r in results])
        return int(query_id)

    def log_click(
        self,
        query_id: int,
        doc_id: str,
        rank: int | None = None,
        kind: str = "open",
        *,
        session_id: str | None = None,
        user: str | None = None,
    ) -> int:
        """Record a click on a result the server showed for ``query_id`` to this session or
        user, at the rank it showed it (a ``rank`` sent along must agree). A result is clicked
        at most once per kind: a repeat returns the id of the click already stored.
        Raises ``FeedbackRejected`` for anything else. Interfaces pass ``session_id`` and/or
        ``user``; only the server replaying its own queries (a simulator) may leave both out."""
        actor, qid, kind = Actor(session_id, user), as_id(query_id, "query id"), check_kind(kind)
        try:
            with self.engine.begin() as conn:
                owned_query(conn, qid, actor)
                at = shown_rank(conn, qid, doc_id)
                check_rank(rank, at, doc_id)
                stored = _stored_click(conn, qid, doc_id, kind)
                if stored is not None:
                    return stored
                values = dict(query_id=qid, doc_id=doc_id, rank=at, kind=kind, created_at=_now())
                return int(conn.execute(insert(clicks).values(**values)).inserted_primary_key[0])
        except IntegrityError:  # the same click, sent twice at once: the other one was stored
            with self.engine.connect() as conn:
                stored = _stored_click(conn, qid, doc_id, kind)
            if stored is None:
                raise FeedbackRejected(f"query {qid} no longer exists") from None
            return stored

    def log_vote(
        self,
        value: int,
        *,
        query_id: int | None = None,
        answer_id: int | None = None,
        doc_id: str | None = None,
        comment: str | None = None,
        session_id: str | None = None,
        user: str | None = None,
    ) -> int:
        """A thumbs-up (+1), thumbs-down (-1) or withdrawn vote (0) on a shown result
        (``query_id`` and ``doc_id``) or on a chat answer (``answer_id``) of this session or
        user. Votes are events: a different value changes the vote in force, the same value
        again stores nothing (its comment, if any, goes to the vote in force). Returns the id
        of the vote in force. Raises ``FeedbackRejected`` for anything else."""
        value, actor = check_vote(value), Actor(session_id, user)
        if (query_id is None) == (answer_id is None):
            raise FeedbackRejected(
                "A vote needs a query_id (a result) or an answer_id (a chat answer), not both"
            )
        with self.engine.begin() as conn:
            if answer_id is not None:
                target = {"answer_id": owned_answer(conn, as_id(answer_id, "answer id"), actor).id}
            else:
                qid = owned_query(conn, as_id(query_id, "query id"), actor).id
                shown_rank(conn, qid, doc_id)
                target = {"query_id": qid, "doc_id": doc_id}
            latest = vote_in_force(
                conn, target.get("query_id"), target.get("answer_id"), target.get("doc_id")
            )
            if latest is not None and latest.value == value:
                if comment:
                    conn.execute(
                        update(votes).where(votes.c.id == latest.id).values(comment=comment)
                    )
                return int(latest.id)
            row = dict(value=value, comment=comment or None, session_id=session_id or "")
            return int(
                conn.execute(
                    insert(votes).values(**target, **row, created_at=_now())
                ).inserted_primary_key[0]
            )

    def add_comment(
        self, vote_id: int, comment: str, *, session_id: str | None = None, user: str | None = None
    ) -> None:
        """Attach a comment to a vote of this session or user."""
        vid, actor = as_id(vote_id, "vote id"), Actor(session_id, user)
        with self.engine.begin() as conn:
            vote = conn.execute(select(votes).where(votes.c.id == vid)).first()
            if vote is None:
                raise FeedbackRejected(f"unknown vote id {vid}")
            if vote.query_id is not None:
                owned_query(conn, vote.query_id, actor)
            else:
                owned_answer(conn, vote.answer_id, actor)
            conn.execute(update(votes).where(votes.c.id == vid).values(comment=comment or None))

    def log_answer(
        self,
        *,
        session_id: str,
        question: str,
        rewritten_query: str,
        answer: str,
        cited_doc_ids: Sequence[str],
        index_version: str,
        mode: str,
        query_id: int | None = None,
        latency_ms: float | None = None,
        user: str | None = None,
    ) -> int:
        return self._insert(
            answers,
            session_id=session_id,
            user_name=user,
            query_id=query_id,
            question=question,
            rewritten_query=rewritten_query,
            answer=answer,
            cited_doc_ids=list(cited_doc_ids),
            mode=mode,
            index_version=index_version,
            latency_ms=latency_ms,
            created_at=_now(),
        )

    def _insert(self, table: Table, **values) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(insert(table).values(**values)).inserted_primary_key[0])

    # ------------------------------------------------------------------ reads
    def count_events(self, index_versions: Sequence[str] | None = None) -> int:
        """Clicks plus votes on results, optionally only for queries shown on these versions."""
        total = 0
        with self.engine.connect() as conn:
            for table in (clicks, votes):
                stmt = select(func.count()).select_from(
                    table.join(queries, table.c.query_id == queries.c.id)
                )
                if index_versions is not None:
                    stmt = stmt.where(queries.c.index_version.in_(list(index_versions)))
                total += int(conn.execute(stmt).scalar() or 0)
        return total

    def rows(self, table: str) -> list[dict]:
        """Every row of one table as plain dicts: everyone's questions, so for operators
        (dashboards, tests); interfaces show people ``queries_of`` and admins ``export``."""
        with self.engine.connect() as conn:
            result = conn.execute(
                select(metadata.tables[table]).order_by(*metadata.tables[table].primary_key)
            )
            return [dict(row._mapping) for row in result]

    def impressions(
        self,
        *,
        index_version: str | None = None,
        sources: Sequence[str] | None = None,
        batch: int = 500,
    ) -> Iterator[Impression]:
        """Every logged query in order, with its shown results, clicks and votes (streamed)."""
        last = 0
        while True:
            stmt = select(queries).where(queries.c.id > last).order_by(queries.c.id).limit(batch)
            if index_version is not None:
                stmt = stmt.where(queries.c.index_version == index_version)
            if sources is not None:
                stmt = stmt.where(queries.c.source.in_(list(sources)))
            with self.engine.connect() as conn:
                heads = [dict(r._mapping) for r in conn.execute(stmt)]
                if not heads:
                    return
                events = _events_of(conn, [h["id"] for h in heads])
            for head in heads:
                yield _impression(head, events)
            last = heads[-1]["id"]

    def impression(self, query_id: int) -> Impression | None:
        """One logged query with its shown results, clicks and votes (None when unknown; a
        query id that is not a valid id is refused with ``FeedbackRejected``)."""
        query_id = as_id(query_id, "query id")
        with self.engine.connect() as conn:
            head = conn.execute(select(queries).where(queries.c.id == query_id)).first()
            if head is None:
                return None
            events = _events_of(conn, [query_id])
        return _impression(dict(head._mapping), events)

    def export_labels(
        self, *, index_version: str | None = None, sources: Sequence[str] | None = None
    ) -> Labels:
        """Feedback as graded relevance labels (``lifecycle.feedback.labels`` gives the policy),
        optionally only for queries shown on one version or logged by some sources."""
        return labels_from(self.impressions(index_version=index_version, sources=sources))

    # ---------------------------------------------------------- personal data
    def queries_of(
        self, user: str | None = None, *, session_id: str | None = None, limit: int = 100
    ) -> list[QueryRecord]:
        """The questions one signed-in ``user`` (or one anonymous ``session_id``) asked,
        newest first: what a person may see of the query log, their own questions only."""
        with self.engine.connect() as conn:
            return personal.queries_of(conn, user, session_id, limit)

    def export(self, requester: User) -> dict[str, list[dict]]:
        """Every feedback row, per table, JSON-ready (times in ISO 8601): for admins only
        (``AdminOnly`` for anyone else)."""
        personal.require_admin(requester, "export feedback")
        return {t: [personal.json_row(r) for r in self.rows(t)] for t in FEEDBACK_TABLES}

    def forget(self, user: str | None = None, *, session_id: str | None = None) -> int:
        """Erase what one user (or one session) asked: their queries with what was shown for
        them, their clicks and votes, and their chat answers. Returns how many queries and
        answers went."""
        with self.engine.begin() as conn:
            return personal.erase(conn, user, session_id)


# ----------------------------------------------------------------------------------- helpers
def _now() -> datetime:
    return datetime.now(UTC)


def _shown_row(query_id: int, result: SearchResult) -> dict:
    return {
        "query_id": query_id,
        "rank": result.rank,
        "doc_id": result.doc_id,
        "chunk_id": result.chunk_id,
        "score": float(result.score),
        "bm25_score": result.bm25_score,
        "dense_score": result.dense_score,
    }


def _events_of(conn, query_ids: list[int]) -> dict[str, dict[int, list]]:
    """Rows of ``shown`` (by rank), ``clicks`` and ``votes`` (in order) per query id."""
    by_query: dict[str, dict[int, list]] = {
        name: defaultdict(list) for name in ("shown", "clicks", "votes")
    }
    for name, table, order in (
        ("shown", shown, shown.c.rank),
        ("clicks", clicks, clicks.c.id),
        ("votes", votes, votes.c.id),
    ):
        stmt = select(table).where(table.c.query_id.in_(query_ids)).order_by(order)
        if table is clicks:  # repeats stored before clicks were unique say nothing more
            stmt = stmt.where(clicks.c.is_repeat.is_(False))
        for row in conn.execute(stmt):
            by_query[name][row.query_id].append(row)
    return by_query


def _impression(head: dict, events: dict[str, dict[int, list]]) -> Impression:
    qid = head["id"]
    return Impression(
        query_id=qid,
        session_id=head["session_id"],
        user_name=head["user_name"],
        query=head["query"],
        index_version=head["index_version"],
        method=head["method"],
        source=head["source"],
        latency_ms=head["latency_ms"],
        created_at=head["created_at"],
        shown=tuple(
            Shown(r.rank, r.doc_id, r.chunk_id, r.score, r.bm25_score, r.dense_score)
            for r in events["shown"][qid]
        ),
        clicks=tuple(
            Click(r.id, r.doc_id, r.rank, r.kind, r.created_at) for r in events["clicks"][qid]
        ),
        votes=tuple(
            Vote(r.id, r.doc_id, r.value, r.comment, r.created_at) for r in events["votes"][qid]
        ),
    )


def _stored_click(conn: Connection, query_id: int, doc_id: str, kind: str) -> int | None:
    return conn.execute(
        select(clicks.c.id).where(
            clicks.c.query_id == query_id,
            clicks.c.doc_id == doc_id,
            clicks.c.kind == kind,
            clicks.c.is_repeat.is_(False),
        )
    ).scalar()
