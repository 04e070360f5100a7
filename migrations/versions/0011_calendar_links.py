"""private calendar addresses (the feed out): calendar_links

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_links_token_hash")),
    )
    op.create_index(op.f("ix_calendar_links_user_id"), "calendar_links", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_links_user_id"), table_name="calendar_links")
    op.drop_table("calendar_links")
