"""Online experiments: which experiments ran, which queries they answered, and which version
contributed each result of an interleaved list (``lifecycle.experiments.schema``)."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("champion_version", sa.String(128), nullable=False),
        sa.Column("challenger_version", sa.String(128), nullable=False),
        sa.Column("champion_registered", sa.String(32), nullable=True),
        sa.Column("challenger_registered", sa.String(32), nullable=True),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("parameters", sa.JSON, nullable=True),
        sa.Column("stopped_by", sa.String(128), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_experiments_state", "experiments", ["state"])
    op.create_table(
        "experiment_queries",
        sa.Column("query_id", sa.Integer, nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("query_id", name="pk_experiment_queries"),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["queries.id"],
            name="fk_experiment_queries_query_id_queries",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_experiment_queries_experiment_id_experiments",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_experiment_queries_experiment_id", "experiment_queries", ["experiment_id"])
    op.create_table(
        "experiment_shown",
        sa.Column("query_id", sa.Integer, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("side", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("query_id", "rank", name="pk_experiment_shown"),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["queries.id"],
            name="fk_experiment_shown_query_id_queries",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("experiment_shown")
    op.drop_index("ix_experiment_queries_experiment_id", "experiment_queries")
    op.drop_table("experiment_queries")
    op.drop_index("ix_experiments_state", "experiments")
    op.drop_table("experiments")
