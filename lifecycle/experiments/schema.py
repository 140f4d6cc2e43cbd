"""The experiments' tables (SQLAlchemy Core), in the product's one store beside the feedback
tables they point at; changed only through migrations (``0004_online_experiments``).

- ``experiments``: id, kind (``interleaving`` | ``canary``), champion and challenger (index
  version folder ids, and their registry numbers), share of traffic, state (``running`` or
  how it ended: ``better``, ``worse``, ``no difference``, ``no decision``, ``stopped``,
  ``passed``, ``rolled back``), the reason it ended, the test's parameters (JSON), who
  stopped it, started_at, ended_at
- ``experiment_queries``: query_id (a logged query), experiment_id, arm: ``interleaved`` (both
  versions' results, one list) or, in a canary, ``champion`` / ``challenger`` (which version
  answered alone)
- ``experiment_shown``: query_id, rank, side (``champion`` | ``challenger``): which version
  contributed each result of an interleaved list; clicks and votes on the result (the
  feedback tables, by query and document) become that version's credit
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Integer, String, Table, Text

from lifecycle.database import metadata

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("champion_version", String(128), nullable=False),
    Column("challenger_version", String(128), nullable=False),
    Column("champion_registered", String(32), nullable=True),
    Column("challenger_registered", String(32), nullable=True),
    Column("share", Float, nullable=False),
    Column("state", String(32), nullable=False, index=True),
    Column("reason", Text, nullable=True),
    Column("parameters", JSON, nullable=True),
    Column("stopped_by", String(128), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)
experiment_queries = Table(
    "experiment_queries",
    metadata,
    Column("query_id", ForeignKey("queries.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "experiment_id",
        ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("arm", String(16), nullable=False),
)
experiment_shown = Table(
    "experiment_shown",
    metadata,
    Column("query_id", ForeignKey("queries.id", ondelete="CASCADE"), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("side", String(16), nullable=False),
)
