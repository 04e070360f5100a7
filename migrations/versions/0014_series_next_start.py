"""each series keeps its first occurrence not yet materialized; both it and planned_until
indexed, for the planning tick

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 09:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointment_series") as batch:
        batch.add_column(sa.Column("next_start", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_appointment_series_next_start"), ["next_start"])
        batch.create_index(batch.f("ix_appointment_series_planned_until"), ["planned_until"])
    # No occurrence comes before ``planned_until``: a bound the next tick makes exact.
    op.execute("UPDATE appointment_series SET next_start = planned_until")


def downgrade() -> None:
    with op.batch_alter_table("appointment_series") as batch:
        batch.drop_index(batch.f("ix_appointment_series_planned_until"))
        batch.drop_index(batch.f("ix_appointment_series_next_start"))
        batch.drop_column("next_start")
