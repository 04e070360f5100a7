"""contacts: a channel (text, call, or text then call); numbers: consent for calls

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("channel", sa.String(20), nullable=False, server_default="sms"))
        batch.create_check_constraint(
            batch.f("ck_contacts_channel"), "channel IN ('sms', 'voice', 'sms_then_voice')"
        )
    with op.batch_alter_table("phone_numbers") as batch:
        batch.add_column(sa.Column("voice_consent_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("voice_consent_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("voice_opted_out_at", sa.DateTime(timezone=True)))
        batch.create_foreign_key(
            batch.f("fk_phone_numbers_voice_consent_by_id_users"),
            "users",
            ["voice_consent_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("phone_numbers") as batch:
        batch.drop_constraint(
            batch.f("fk_phone_numbers_voice_consent_by_id_users"), type_="foreignkey"
        )
        batch.drop_column("voice_opted_out_at")
        batch.drop_column("voice_consent_by_id")
        batch.drop_column("voice_consent_at")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_constraint(batch.f("ck_contacts_channel"), type_="check")
        batch.drop_column("channel")
