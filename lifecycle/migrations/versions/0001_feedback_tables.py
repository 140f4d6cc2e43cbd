"""The feedback tables as the first release made them (``metadata.create_all``, main 6360f09).

Each table is created only when it is missing, so a store written before migrations existed
is adopted with every row it holds, and one written by an even older release (no ``answers``
table yet) gets the tables it lacks.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _queries() -> None:
    op.create_table(
        "queries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("index_version", sa.String(128), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("filters", sa.JSON, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("n_results", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("session_id", "index_version", "created_at"):
        op.create_index(f"ix_queries_{column}", "queries", [column])


def _shown() -> None:
    op.create_table(
        "shown",
        sa.Column(
            "query_id",
            sa.Integer,
            sa.ForeignKey("queries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("rank", sa.Integer, primary_key=True),
        sa.Column("doc_id", sa.Text, nullable=False),
        sa.Column("chunk_id", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("bm25_score", sa.Float, nullable=True),
        sa.Column("dense_score", sa.Float, nullable=True),
    )


def _clicks() -> None:
    op.create_table(
        "clicks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "query_id", sa.Integer, sa.ForeignKey("queries.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("doc_id", sa.Text, nullable=False),
        sa.Column("rank", sa.Integer, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_clicks_query_id", "clicks", ["query_id"])


def _answers() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column(
            "query_id", sa.Integer, sa.ForeignKey("queries.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("rewritten_query", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("cited_doc_ids", sa.JSON, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("index_version", sa.String(128), nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_answers_session_id", "answers", ["session_id"])


def _votes() -> None:
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "query_id", sa.Integer, sa.ForeignKey("queries.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "answer_id", sa.Integer, sa.ForeignKey("answers.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("doc_id", sa.Text, nullable=True),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("value IN (-1, 0, 1)", name="vote_value"),
        sa.CheckConstraint("query_id IS NOT NULL OR answer_id IS NOT NULL", name="vote_target"),
    )
    op.create_index("ix_votes_query_id", "votes", ["query_id"])
    op.create_index("ix_votes_answer_id", "votes", ["answer_id"])


# in dependency order: a table's foreign keys point to tables created before it
TABLES = {
    "queries": _queries,
    "shown": _shown,
    "clicks": _clicks,
    "answers": _answers,
    "votes": _votes,
}


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
