"""indexes the calls need: due calls by channel, and replies by sender and time

* ``outbound_messages (channel, status, send_at)``: a claim takes its calls apart from its
  texts (about a second's worth, at VOICE_MAX_PER_SECOND); without the index, finding the
  due calls walked every due text, in every claim.
* ``inbound_messages (from_phone, received_at)``: "has this number answered since?", asked
  every minute by the fallback job for each text still unanswered (and by redials and the
  phone simulator); without the index each question read the whole table.

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
        "ix_outbound_messages_channel_status_send_at",
        "outbound_messages",
        ["channel", "status", "send_at"],
    )
    op.create_index(
        "ix_inbound_messages_from_phone_received_at",
        "inbound_messages",
        ["from_phone", "received_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_from_phone_received_at", table_name="inbound_messages")
    op.drop_index("ix_outbound_messages_channel_status_send_at", table_name="outbound_messages")
