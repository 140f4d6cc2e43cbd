"""Whose feedback it is, and one click per result and kind.

- ``queries.user_name`` and ``answers.user_name``: the signed-in user who asked (null for an
  anonymous session, and for every row written before), beside the session id;
- ``clicks.is_repeat`` and a unique index on (query_id, doc_id, kind) over the clicks that are
  not repeats: a result is clicked at most once per kind per query. The clicks stored before
  the rule are all kept; the second and later of an identical click are marked as repeats.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NOT_REPEAT = sa.text("is_repeat = false")


def upgrade() -> None:
    with op.batch_alter_table("queries") as batch:
        batch.add_column(sa.Column("user_name", sa.String(128), nullable=True))
        batch.create_index("ix_queries_user_name", ["user_name"])
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("user_name", sa.String(128), nullable=True))
    with op.batch_alter_table("clicks") as batch:
        batch.add_column(
            sa.Column("is_repeat", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE clicks SET is_repeat = true WHERE id NOT IN "
        "(SELECT MIN(id) FROM clicks GROUP BY query_id, doc_id, kind)"
    )
    op.create_index(
        "uq_clicks_once",
        "clicks",
        ["query_id", "doc_id", "kind"],
        unique=True,
        sqlite_where=NOT_REPEAT,
        postgresql_where=NOT_REPEAT,
    )


def downgrade() -> None:
    op.drop_index("uq_clicks_once", table_name="clicks")
    with op.batch_alter_table("clicks") as batch:
        batch.drop_column("is_repeat")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("user_name")
    with op.batch_alter_table("queries") as batch:
        batch.drop_index("ix_queries_user_name")
        batch.drop_column("user_name")
