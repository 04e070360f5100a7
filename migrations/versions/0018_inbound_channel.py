"""inbound messages: the channel a reply came by (a text, or keys pressed during a call)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("channel", sa.String(10), nullable=False, server_default="sms"))
        batch.create_check_constraint(
            batch.f("ck_inbound_messages_channel"), "channel IN ('sms', 'voice')"
        )


def downgrade() -> None:
    # A key press read as a text would be misread (a 9 that stopped calls as a pain score):
    # refuse rather than drop how it came.
    calls = op.get_bind().execute(
        sa.text("SELECT count(*) FROM inbound_messages WHERE channel = 'voice'")
    )
    if calls.scalar_one():
        raise RuntimeError(
            "inbound_messages holds key presses: remove them before going below 0018"
        )
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_constraint(batch.f("ck_inbound_messages_channel"), type_="check")
        batch.drop_column("channel")
