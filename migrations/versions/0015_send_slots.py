"""one row per channel holding its next free send slot, so SMS_MAX_PER_SECOND holds for the
whole deployment however many clock processes send

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No seed row: the first reservation of a channel inserts it (service.send_rate).
    op.create_table(
        "send_slots",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_send_slots")),
    )


def downgrade() -> None:
    op.drop_table("send_slots")
