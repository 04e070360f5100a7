"""relief insight: imported pain reports, signal alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = (
    "'pain', 'reschedule', 'not_understood', 'unknown_sender', 'delivery_failed', "
    "'invalid_number', 'opt_out'"
)
NEW_KINDS = OLD_KINDS + ", 'relief_gap', 'lapsing', 'not_answering'"


def upgrade() -> None:
    op.create_table(
        "imported_pain_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pain", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "pain BETWEEN 0 AND 10", name=op.f("ck_imported_pain_reports_pain_range")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_imported_pain_reports_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_imported_pain_reports_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_imported_pain_reports_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_pain_reports")),
    )
    with op.batch_alter_table("imported_pain_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_imported_pain_reports_client_id_reported_at",
            ["client_id", "reported_at"],
            unique=False,
        )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signal_key", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_alerts_signal_key"), ["signal_key"])
        batch_op.drop_constraint(batch_op.f("ck_alerts_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_alerts_kind"), f"kind IN ({NEW_KINDS})")


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE kind IN ('relief_gap', 'lapsing', 'not_answering')")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_alerts_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_alerts_kind"), f"kind IN ({OLD_KINDS})")
        batch_op.drop_constraint(batch_op.f("uq_alerts_signal_key"), type_="unique")
        batch_op.drop_column("signal_key")
    with op.batch_alter_table("imported_pain_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_imported_pain_reports_client_id_reported_at")
    op.drop_table("imported_pain_reports")
