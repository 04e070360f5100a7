"""inbound messages: an index by sender and time, for "has this number answered since?"

The clock's fallback job asks it every minute for each text still unanswered (a call
follows a text nobody answered), and the phone simulator lists a number's replies; without
the index each question read the whole table.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_inbound_messages_from_phone_received_at",
        "inbound_messages",
        ["from_phone", "received_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_from_phone_received_at", table_name="inbound_messages")
