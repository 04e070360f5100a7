"""calendar feeds in: subscribed feeds, title decisions, feed appointments, a failing feed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = (
    "'pain', 'reschedule', 'not_understood', 'unknown_sender', 'delivery_failed', "
    "'invalid_number', 'opt_out', 'relief_gap', 'lapsing', 'not_answering'"
)
NEW_KINDS = OLD_KINDS + ", 'calendar_feed'"


def _alert_kinds(kinds: str) -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint(batch.f("ck_alerts_kind"), type_="check")
        batch.create_check_constraint(batch.f("ck_alerts_kind"), f"kind IN ({kinds})")


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("unplaced_titles", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["users.id"],
            name=op.f("fk_calendar_feeds_therapist_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_calendar_feeds_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
    )
    op.create_index(op.f("ix_calendar_feeds_therapist_id"), "calendar_feeds", ["therapist_id"])
    op.create_table(
        "feed_titles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('linked', 'ignored')", name=op.f("ck_feed_titles_state")),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["users.id"],
            name=op.f("fk_feed_titles_therapist_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_titles")),
        sa.UniqueConstraint(
            "therapist_id", "title", name=op.f("uq_feed_titles_therapist_id_title")
        ),
    )
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("calendar_name", sa.String(length=100), nullable=True))
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("feed_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("feed_uid", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("feed_instance", sa.String(length=64), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_appointments_feed_id_calendar_feeds"),
            "calendar_feeds",
            ["feed_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_unique_constraint(
            batch.f("uq_appointments_feed_id_feed_uid_feed_instance"),
            ["feed_id", "feed_uid", "feed_instance"],
        )
    _alert_kinds(NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE kind = 'calendar_feed'")
    _alert_kinds(OLD_KINDS)
    with op.batch_alter_table("appointments") as batch:
        batch.drop_constraint(
            batch.f("uq_appointments_feed_id_feed_uid_feed_instance"), type_="unique"
        )
        batch.drop_constraint(batch.f("fk_appointments_feed_id_calendar_feeds"), type_="foreignkey")
        batch.drop_column("feed_instance")
        batch.drop_column("feed_uid")
        batch.drop_column("feed_id")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("calendar_name")
    op.drop_table("feed_titles")
    op.drop_index(op.f("ix_calendar_feeds_therapist_id"), table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
