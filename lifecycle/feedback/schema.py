"""The feedback store's tables (SQLAlchemy Core), in the product's one store
(``lifecycle.database``): SQLite by default, PostgreSQL for shared deployments. The tables
change only through migrations (``lifecycle.migrations``), applied when a store is opened.

Tables (all timestamps UTC):

- ``queries``: id, session_id, user_name (the signed-in user; null when anonymous), query,
  index_version, method, source (search | chat | simulator), k, filters (JSON), latency_ms,
  n_results, created_at
- ``shown``: query_id, rank, doc_id, chunk_id, score, bm25_score, dense_score: what the server
  showed, the only results a click or vote is accepted for
- ``clicks``: id, query_id, doc_id, rank (as shown), kind (open | preview | download |
  citation), created_at, is_repeat (true only for repeats stored before clicks were unique)
- ``answers``: id, session_id, user_name, query_id (the retrieval behind it), question,
  rewritten_query, answer, cited_doc_ids (JSON list), mode, index_version, latency_ms, created_at
- ``votes``: id, query_id or answer_id, doc_id (null for an answer), value (+1, -1, or 0 when
  a vote is withdrawn), comment, session_id, created_at. Votes are events: the latest one per
  (query or answer, doc_id) is the one in force.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    text,
)

from lifecycle.database import metadata

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
    Column("user_name", String(128), nullable=True, index=True),
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
    Column("is_repeat", Boolean, nullable=False, server_default=false()),
)
# At most one click per result and kind per query. Stores from before the rule keep their
# repeated clicks, marked ``is_repeat`` (migration 0003), outside the index.
_NOT_REPEAT = text("is_repeat = false")
Index(
    "uq_clicks_once",
    clicks.c.query_id,
    clicks.c.doc_id,
    clicks.c.kind,
    unique=True,
    sqlite_where=_NOT_REPEAT,
    postgresql_where=_NOT_REPEAT,
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
    Column("user_name", String(128), nullable=True),
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
