"""The feedback store: queries, shown results, clicks, votes and chat answers, written and read.

Every ``log_*`` call is one short transaction, so concurrent writers (Streamlit threads, a
feedback simulator in another process) interleave without losing rows. The tables are in
``lifecycle.feedback.schema``; what the rows mean as labels is ``lifecycle.feedback.labels``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Engine

from lifecycle.database import open_database
from lifecycle.feedback.labels import Click, Impression, Labels, Shown, Vote, labels_from
from lifecycle.feedback.schema import answers, clicks, metadata, queries, shown, votes
from search.index import SearchResult


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
    ) -> int:
        """Record a query and the ranked results shown for it; returns the query id."""
        with self.engine.begin() as conn:
            query_id = conn.execute(
                insert(queries).values(
                    session_id=session_id,
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
        self, query_id: int, doc_id: str, rank: int | None = None, kind: str = "open"
    ) -> int:
        return self._insert(
            clicks, query_id=query_id, doc_id=doc_id, rank=rank, kind=kind, created_at=_now()
        )

    def log_vote(
        self,
        value: int,
        *,
        query_id: int | None = None,
        answer_id: int | None = None,
        doc_id: str | None = None,
        comment: str | None = None,
        session_id: str = "",
    ) -> int:
        """A thumbs-up (+1), thumbs-down (-1) or withdrawn vote (0) on a result or an answer."""
        if value not in (-1, 0, 1):
            raise ValueError(f"A vote is +1, -1 or 0, not {value!r}.")
        if query_id is None and answer_id is None:
            raise ValueError("A vote needs a query_id (a result) or an answer_id (a chat answer).")
        return self._insert(
            votes,
            query_id=query_id,
            answer_id=answer_id,
            doc_id=doc_id,
            value=value,
            comment=comment or None,
            session_id=session_id,
            created_at=_now(),
        )

    def add_comment(self, vote_id: int, comment: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(votes).where(votes.c.id == vote_id).values(comment=comment or None))

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
    ) -> int:
        return self._insert(
            answers,
            session_id=session_id,
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
        """Every row of one table as plain dicts (for dashboards and tests)."""
        with self.engine.connect() as conn:
            result = conn.execute(
                select(metadata.tables[table]).order_by(metadata.tables[table].c[0])
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
        """One logged query with its shown results, clicks and votes (None when unknown)."""
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
        for row in conn.execute(
            select(table).where(table.c.query_id.in_(query_ids)).order_by(order)
        ):
            by_query[name][row.query_id].append(row)
    return by_query


def _impression(head: dict, events: dict[str, dict[int, list]]) -> Impression:
    qid = head["id"]
    return Impression(
        query_id=qid,
        session_id=head["session_id"],
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
