"""replies: the best guess of a reply understanding was not sure of, and why it read it so

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INTENTS = "'pain', 'confirm', 'reschedule', 'opt_out', 'opt_in', 'help', 'other'"


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("guess", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(length=200), nullable=True))
        batch.create_check_constraint(batch.f("ck_inbound_messages_guess"), f"guess IN ({INTENTS})")


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_constraint(batch.f("ck_inbound_messages_guess"), type_="check")
        batch.drop_column("reason")
        batch.drop_column("guess")
