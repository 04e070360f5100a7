"""outbound messages: the move and cancellation notices

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "'reminder', 'checkin', 'nudge', 'reply', 'manual'"
NEW_KINDS = OLD_KINDS + ", 'move_notice', 'cancel_notice'"


def _kinds(kinds: str) -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_constraint(batch.f("ck_outbound_messages_kind"), type_="check")
        batch.create_check_constraint(batch.f("ck_outbound_messages_kind"), f"kind IN ({kinds})")


def upgrade() -> None:
    _kinds(NEW_KINDS)


def downgrade() -> None:
    op.execute(
        "UPDATE outbound_messages SET kind = 'manual' "
        "WHERE kind IN ('move_notice', 'cancel_notice')"
    )
    _kinds(OLD_KINDS)
