"""The feedback store: queries, shown results, clicks, votes and chat answers, turned into labels.

One SQLAlchemy Core schema serves SQLite (the default, a WAL file under ``DOCSEARCH_HOME``) and
any other database SQLAlchemy speaks (PostgreSQL for shared deployments). Every ``log_*`` call
is one short transaction, so concurrent writers (Streamlit threads, a feedback simulator in
another process) interleave without losing rows.

Tables (all timestamps UTC):

- ``queries``: id, session_id, query, index_version, method, source (search | chat |
  simulator), k, filters (JSON), latency_ms, n_results, created_at
- ``shown``: query_id, rank, doc_id, chunk_id, score, bm25_score, dense_score
- ``clicks``: id, query_id, doc_id, rank, kind (open | preview | download | citation), created_at
- ``answers``: id, session_id, query_id (the retrieval behind it), question, rewritten_query,
  answer, cited_doc_ids (JSON list), mode, index_version, latency_ms, created_at
- ``votes``: id, query_id or answer_id, doc_id (null for an answer), value (+1, -1, or 0 when
  a vote is withdrawn), comment, session_id, created_at. Votes are events: the latest one per
  (query or answer, doc_id) is the one in force.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from search.index import SearchIndex, SearchResult
from search.retrieval import Filters

__all__ = [
    "FeedbackStore",
    "Impression",
    "LabelEvidence",
    "Labels",
    "search_and_log",
]

metadata = MetaData()

queries = Table(
    "queries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(64), nullable=False, index=True),
    Column("query", Text, nullable=False),
    Column("index_version", String(128), nullable=False, index=True),
    Column("method", String(16), nullable=False),
    Column("source", String(16), nullable=False, default="search"),
    Column("k", Integer, nullable=False),
    Column("filters", JSON, nullable=True),
    Column("latency_ms", Float, nullable=False),
    Column("n_results", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)
shown = Table(
    "shown",
    metadata,
    Column("query_id", ForeignKey("queries.id", ondelete="CASCADE"), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("doc_id", Text, nullable=False),
    Column("chunk_id", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("bm25_score", Float, nullable=True),
    Column("dense_score", Float, nullable=True),
)
clicks = Table(
    "clicks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("query_id", ForeignKey("queries.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("doc_id", Text, nullable=False),
    Column("rank", Integer, nullable=True),
    Column("kind", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
answers = Table(
    "answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(64), nullable=False, index=True),
    Column("query_id", ForeignKey("queries.id", ondelete="SET NULL"), nullable=True),
    Column("question", Text, nullable=False),
    Column("rewritten_query", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("cited_doc_ids", JSON, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("index_version", String(128), nullable=False),
    Column("latency_ms", Float, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
votes = Table(
    "votes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("query_id", ForeignKey("queries.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("answer_id", ForeignKey("answers.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("doc_id", Text, nullable=True),
    Column("value", Integer, nullable=False),
    Column("comment", Text, nullable=True),
    Column("session_id", String(64), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("value IN (-1, 0, 1)", name="vote_value"),
    CheckConstraint("query_id IS NOT NULL OR answer_id IS NOT NULL", name="vote_target"),
)

# Grades of the exported labels (BEIR convention: higher is more relevant, 0 judged irrelevant).
GRADE_UPVOTED = 2
GRADE_CLICKED = 1
GRADE_NEGATIVE = 0


# ------------------------------------------------------------------------------------ shapes
@dataclass(frozen=True)
class Shown:
    rank: int
    doc_id: str
    chunk_id: str
    score: float
    bm25_score: float | None
    dense_score: float | None


@dataclass(frozen=True)
class Click:
    id: int
    doc_id: str
    rank: int | None
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class Vote:
    id: int
    doc_id: str | None
    value: int
    comment: str | None
    created_at: datetime


@dataclass(frozen=True)
class Impression:
    """One logged query with everything shown for it and everything the user did with it."""

    query_id: int
    session_id: str
    query: str
    index_version: str
    method: str
    source: str
    latency_ms: float
    created_at: datetime
    shown: tuple[Shown, ...]
    clicks: tuple[Click, ...]
    votes: tuple[Vote, ...]  # in the order they were cast

    def votes_in_force(self) -> dict[str, int]:
        """doc_id -> +1 / -1 for each result whose latest vote was not withdrawn."""
        latest = {v.doc_id: v.value for v in self.votes if v.doc_id is not None}
        return {doc: value for doc, value in latest.items() if value}

    def clicked(self) -> set[str]:
        return {c.doc_id for c in self.clicks}

    def skipped(self) -> set[str]:
        """Results shown above the lowest clicked or up-voted one that got neither."""
        positive = self.clicked() | {d for d, v in self.votes_in_force().items() if v > 0}
        ranks = [s.rank for s in self.shown if s.doc_id in positive]
        if not ranks:
            return set()
        return {s.doc_id for s in self.shown if s.rank < max(ranks) and s.doc_id not in positive}


@dataclass
class LabelEvidence:
    """Why one (query, document) pair got its grade: counts and the ids of the events."""

    up_votes: int = 0
    down_votes: int = 0
    clicks: int = 0
    skips: int = 0
    query_ids: list[int] = field(default_factory=list)
    click_ids: list[int] = field(default_factory=list)
    vote_ids: list[int] = field(default_factory=list)
    index_versions: list[str] = field(default_factory=list)

    @property
    def grade(self) -> int | None:
        """2 when up-votes outnumber down-votes, 0 when down-votes do, else 1 if clicked,
        0 if only skipped (shown above a click) or down-voted, None when there is no signal."""
        if self.up_votes > self.down_votes:
            return GRADE_UPVOTED
        if self.down_votes > self.up_votes:
            return GRADE_NEGATIVE
        if self.clicks:
            return GRADE_CLICKED
        if self.skips or self.down_votes:
            return GRADE_NEGATIVE
        return None


@dataclass(frozen=True)
class Labels:
    """Feedback as BEIR dicts: ``queries {qid: text}``, ``qrels {qid: {doc_id: grade}}``,
    plus ``lineage {qid: {doc_id: LabelEvidence}}`` naming the events behind every grade."""

    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    lineage: dict[str, dict[str, LabelEvidence]]


def query_key(text: str) -> tuple[str, str]:
    """(qid, normalised text): the same question typed twice is one labeled query."""
    normalised = " ".join(text.lower().split())
    return "fb-" + hashlib.sha1(normalised.encode()).hexdigest()[:12], normalised


# ------------------------------------------------------------------------------------- store
class FeedbackStore:
    """Durable record of what people searched, saw, clicked and voted on."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        _create_tables(self.engine)

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
                conn.execute(
                    insert(shown),
                    [
                        {
                            "query_id": query_id,
                            "rank": r.rank,
                            "doc_id": r.doc_id,
                            "chunk_id": r.chunk_id,
                            "score": float(r.score),
                            "bm25_score": r.bm25_score,
                            "dense_score": r.dense_score,
                        }
                        for r in results
                    ],
                )
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
        from sqlalchemy import func

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
                ids = [h["id"] for h in heads]
                by_query: dict[str, dict[int, list]] = {
                    name: defaultdict(list) for name in ("shown", "clicks", "votes")
                }
                for name, table, order in (
                    ("shown", shown, shown.c.rank),
                    ("clicks", clicks, clicks.c.id),
                    ("votes", votes, votes.c.id),
                ):
                    for row in conn.execute(
                        select(table).where(table.c.query_id.in_(ids)).order_by(order)
                    ):
                        by_query[name][row.query_id].append(row)
            for h in heads:
                qid = h["id"]
                yield Impression(
                    query_id=qid,
                    session_id=h["session_id"],
                    query=h["query"],
                    index_version=h["index_version"],
                    method=h["method"],
                    source=h["source"],
                    latency_ms=h["latency_ms"],
                    created_at=h["created_at"],
                    shown=tuple(
                        Shown(r.rank, r.doc_id, r.chunk_id, r.score, r.bm25_score, r.dense_score)
                        for r in by_query["shown"][qid]
                    ),
                    clicks=tuple(
                        Click(r.id, r.doc_id, r.rank, r.kind, r.created_at)
                        for r in by_query["clicks"][qid]
                    ),
                    votes=tuple(
                        Vote(r.id, r.doc_id, r.value, r.comment, r.created_at)
                        for r in by_query["votes"][qid]
                    ),
                )
            last = ids[-1]

    def export_labels(
        self, *, index_version: str | None = None, sources: Sequence[str] | None = None
    ) -> Labels:
        """Feedback as graded relevance labels, one labeled query per distinct (normalised) text.

        Per (query, document) the signals are summed over every impression: up- and down-votes
        in force, clicks (any kind), and skips (shown above a clicked or up-voted result and not
        touched). ``LabelEvidence.grade`` turns them into 2 / 1 / 0; pairs with no signal are
        left out, so a shown-but-ignored result below every click is not a negative.
        """
        texts: dict[str, str] = {}
        evidence: dict[str, dict[str, LabelEvidence]] = defaultdict(dict)
        for imp in self.impressions(index_version=index_version, sources=sources):
            qid, text = query_key(imp.query)
            in_force = imp.votes_in_force()
            skipped = imp.skipped()
            touched = imp.clicked() | set(in_force) | skipped
            for doc_id in touched:
                ev = evidence[qid].setdefault(doc_id, LabelEvidence())
                ev.up_votes += in_force.get(doc_id, 0) > 0
                ev.down_votes += in_force.get(doc_id, 0) < 0
                ev.skips += doc_id in skipped
                doc_clicks = [c.id for c in imp.clicks if c.doc_id == doc_id]
                ev.clicks += len(doc_clicks)
                ev.click_ids += doc_clicks
                ev.vote_ids += [v.id for v in imp.votes if v.doc_id == doc_id]
                ev.query_ids.append(imp.query_id)
                if imp.index_version not in ev.index_versions:
                    ev.index_versions.append(imp.index_version)
                texts.setdefault(qid, text)
        qrels: dict[str, dict[str, int]] = {}
        lineage: dict[str, dict[str, LabelEvidence]] = {}
        for qid, docs in evidence.items():
            graded = {d: ev.grade for d, ev in docs.items() if ev.grade is not None}
            if graded:
                qrels[qid] = graded
                lineage[qid] = {d: docs[d] for d in graded}
        return Labels({q: texts[q] for q in qrels}, qrels, lineage)


def search_and_log(
    index: SearchIndex,
    store: FeedbackStore,
    query: str,
    session_id: str,
    version: str,
    k: int = 10,
    method: str | None = None,
    filters: Filters | None = None,
    source: str = "search",
) -> tuple[int, list[SearchResult]]:
    """Search and record the query with what was shown: the one logging path of the app,
    the chat page and any feedback simulator. Returns (query_id, results)."""
    started = time.perf_counter()
    results = index.search(query, k=k, method=method, filters=filters)
    latency_ms = (time.perf_counter() - started) * 1000
    query_id = store.log_query(
        session_id=session_id,
        query=query,
        index_version=version,
        method=str(method or "hybrid"),
        latency_ms=latency_ms,
        results=results,
        k=k,
        source=source,
        filters=_filters_json(filters),
    )
    return query_id, results


# ----------------------------------------------------------------------------------- helpers
def _now() -> datetime:
    return datetime.now(UTC)


def _filters_json(filters: Filters | None) -> dict | None:
    if filters is None or filters.is_empty():
        return None
    out = {
        "formats": sorted(filters.formats),
        "path_prefix": filters.path_prefix,
        "modified_after": filters.modified_after,
        "modified_before": filters.modified_before,
    }
    return json.loads(json.dumps({k: v for k, v in out.items() if v}))


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching to WAL itself needs a lock another process may hold
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable across app crashes in WAL mode
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return engine


def _create_tables(engine: Engine, attempts: int = 5) -> None:
    """Create missing tables; two processes starting at once may race, so retry."""
    for attempt in range(attempts):
        try:
            metadata.create_all(engine)
            return
        except OperationalError as exc:
            if "already exists" not in str(exc) and "locked" not in str(exc):
                raise
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1))
