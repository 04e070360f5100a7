"""a linked feed title names its client; an item about no client may be one therapist's

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_titles") as batch:
        batch.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_feed_titles_client_id_clients"),
            "clients",
            ["client_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("therapist_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_alerts_therapist_id_users"),
            "users",
            ["therapist_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint(batch.f("fk_alerts_therapist_id_users"), type_="foreignkey")
        batch.drop_column("therapist_id")
    with op.batch_alter_table("feed_titles") as batch:
        batch.drop_constraint(batch.f("fk_feed_titles_client_id_clients"), type_="foreignkey")
        batch.drop_column("client_id")
