"""outbound messages: the voice channel, a phone call that speaks the message

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _channels(channels: str) -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_constraint(batch.f("ck_outbound_messages_channel"), type_="check")
        batch.create_check_constraint(
            batch.f("ck_outbound_messages_channel"), f"channel IN ({channels})"
        )


def upgrade() -> None:
    _channels("'sms', 'voice'")


def downgrade() -> None:
    # A call cannot become a text: refuse rather than rewrite or drop what was called.
    calls = op.get_bind().execute(
        sa.text("SELECT count(*) FROM outbound_messages WHERE channel = 'voice'")
    )
    if calls.scalar_one():
        raise RuntimeError("outbound_messages holds calls: remove them before going below 0016")
    _channels("'sms'")
