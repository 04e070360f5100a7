"""outbox: a channel per message, and the appointment start a planned text was written for

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 22:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=10), server_default="sms", nullable=False)
        )
        batch.add_column(sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(batch.f("ck_outbound_messages_channel"), "channel IN ('sms')")
    _backfill_planned_start()


def _backfill_planned_start() -> None:
    """Planned reminders and check-ins kept their start only as the key's last part."""
    bind = op.get_bind()
    table = sa.table(
        "outbound_messages",
        sa.column("id", sa.Integer()),
        sa.column("idempotency_key", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("planned_start", sa.DateTime(timezone=True)),
    )
    naive = bind.dialect.name == "sqlite"  # SQLite stores instants as naive UTC
    rows = bind.execute(
        sa.select(table.c.id, table.c.idempotency_key).where(
            table.c.kind.in_(("reminder", "checkin"))
        )
    ).all()
    updates = []
    for row_id, key in rows:
        last = key.rsplit(":", 1)[-1]
        if last.isascii() and last.isdigit():
            start = datetime.fromtimestamp(int(last), UTC)
            updates.append(
                {"row_id": row_id, "start": start.replace(tzinfo=None) if naive else start}
            )
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values(planned_start=sa.bindparam("start"))
    )
    for first in range(0, len(updates), BATCH):
        bind.execute(statement, updates[first : first + BATCH])


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_constraint(batch.f("ck_outbound_messages_channel"), type_="check")
        batch.drop_column("planned_start")
        batch.drop_column("channel")
