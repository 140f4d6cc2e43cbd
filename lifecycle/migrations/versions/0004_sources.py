"""Connected document stores: ``sources`` (``lifecycle.sources.catalog``), one row per source
with its URL, its options (never a secret) and the cursor of its last sync."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="never"),
        sa.Column("cursor", sa.String(64), nullable=False, server_default=""),
        sa.Column("report", sa.Text, nullable=True),
        sa.UniqueConstraint("name", name="uq_sources_name"),
    )


def downgrade() -> None:
    op.drop_table("sources")
