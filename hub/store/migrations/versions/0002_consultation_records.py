"""Consultation records (the report and the cabin's part), their deliveries, and the
INS traits and GP a booking may carry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 19:04:21.656732
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consultation_records",
        sa.Column("consultation_id", sa.String(length=32), nullable=False),
        sa.Column("doctor_id", sa.String(length=32), nullable=False),
        sa.Column("cabin_id", sa.String(length=63), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("site_code", sa.String(length=16), nullable=False),
        sa.Column("started_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("report_saved_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("signed_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("cabin_part", sa.JSON(), nullable=True),
        sa.Column("cabin_part_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("patient_search", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_records_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["accounts.id"], name=op.f("fk_consultation_records_doctor_id_accounts")
        ),
        sa.PrimaryKeyConstraint("consultation_id", name=op.f("pk_consultation_records")),
    )
    with op.batch_alter_table("consultation_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_records_doctor_id"), ["doctor_id"], unique=False
        )

    op.create_table(
        "record_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("consultation_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("delivered_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation_records.consultation_id"],
            name=op.f("fk_record_deliveries_consultation_id_consultation_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_deliveries")),
        sa.UniqueConstraint(
            "consultation_id", "channel", name=op.f("uq_record_deliveries_consultation_id_channel")
        ),
    )
    with op.batch_alter_table("record_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_deliveries_state_next", ["state", "next_attempt_at"], unique=False
        )

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("general_practitioner", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("general_practitioner")
        batch_op.drop_column("identity")

    with op.batch_alter_table("record_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_record_deliveries_state_next")

    op.drop_table("record_deliveries")
    with op.batch_alter_table("consultation_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_records_doctor_id"))

    op.drop_table("consultation_records")
