"""The hub's first tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-03 09:11:25.277312
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_enrolled_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "totp_last_step", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("specialty", sa.String(length=200), nullable=True),
        sa.Column("rpps", sa.String(length=11), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    op.create_table(
        "alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("cabin_id", sa.String(length=63), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_alerts_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_cabin_id"), ["cabin_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=160), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index("ix_audit_at", ["at"], unique=False)

    op.create_table(
        "login_failures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_key"), ["key"], unique=False)

    op.create_table(
        "sites",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_sites")),
    )
    op.create_table(
        "account_sites",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("site_code", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_sites_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "site_code", name=op.f("pk_account_sites")),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("site_code", sa.String(length=16), nullable=False),
        sa.Column("slot_start", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("slot_end", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("cancelled_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("checked_in_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_bookings_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_site_slot", ["site_code", "slot_start"], unique=False)

    op.create_table(
        "cabins",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("site_code", sa.String(length=16), nullable=False),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("enrolment_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "enrolment_expires_at", hub.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("credential_hash", sa.String(length=64), nullable=True),
        sa.Column("enrolled_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("outbox_epoch", sa.String(length=64), nullable=True),
        sa.Column(
            "last_outbox_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "appointments_cursor",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("software_version", sa.String(length=64), nullable=True),
        sa.Column("status", sa.JSON(), nullable=True),
        sa.Column("status_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("online_since", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("offline_since", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("hygiene_chain_ok", sa.Boolean(), nullable=False),
        sa.Column("hygiene_chain_problem", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_cabins_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cabins")),
    )
    with op.batch_alter_table("cabins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cabins_site_code"), ["site_code"], unique=False)

    op.create_table(
        "recovery_codes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_recovery_codes_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recovery_codes_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("second_factor_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_web_sessions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_sessions_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "booking_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("booking_id", sa.String(length=32), nullable=False),
        sa.Column("site_code", sa.String(length=16), nullable=False),
        sa.Column("at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_booking_changes_booking_id_bookings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_changes")),
    )
    with op.batch_alter_table("booking_changes", schema=None) as batch_op:
        batch_op.create_index("ix_booking_changes_site_id", ["site_code", "id"], unique=False)

    op.create_table(
        "consultations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("cabin_id", sa.String(length=63), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("site_code", sa.String(length=16), nullable=False),
        sa.Column("doctor_id", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cabin_id"], ["cabins.id"], name=op.f("fk_consultations_cabin_id_cabins")
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["accounts.id"], name=op.f("fk_consultations_doctor_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
        sa.UniqueConstraint(
            "cabin_id", "session_id", name=op.f("uq_consultations_cabin_id_session_id")
        ),
    )
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consultations_doctor_id"), ["doctor_id"], unique=False)

    op.create_table(
        "hygiene_entries",
        sa.Column("cabin_id", sa.String(length=63), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("received_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cabin_id"], ["cabins.id"], name=op.f("fk_hygiene_entries_cabin_id_cabins")
        ),
        sa.PrimaryKeyConstraint("cabin_id", "seq", name=op.f("pk_hygiene_entries")),
    )
    op.create_table(
        "session_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("cabin_id", sa.String(length=63), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("previous", sa.String(length=32), nullable=False),
        sa.Column("at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("appointment_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["cabin_id"], ["cabins.id"], name=op.f("fk_session_events_cabin_id_cabins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_events")),
        sa.UniqueConstraint("cabin_id", "key", name=op.f("uq_session_events_cabin_id_key")),
    )
    with op.batch_alter_table("session_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_events_cabin_id"), ["cabin_id"], unique=False)

    op.create_table(
        "waiting_patients",
        sa.Column("cabin_id", sa.String(length=63), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("site_code", sa.String(length=16), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("age", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("appointment_start", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("walk_in", sa.Boolean(), nullable=False),
        sa.Column("waiting_since", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cabin_id"], ["cabins.id"], name=op.f("fk_waiting_patients_cabin_id_cabins")
        ),
        sa.PrimaryKeyConstraint("cabin_id", name=op.f("pk_waiting_patients")),
    )
    with op.batch_alter_table("waiting_patients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waiting_patients_site_code"), ["site_code"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("waiting_patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waiting_patients_site_code"))

    op.drop_table("waiting_patients")
    with op.batch_alter_table("session_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_events_cabin_id"))

    op.drop_table("session_events")
    op.drop_table("hygiene_entries")
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultations_doctor_id"))

    op.drop_table("consultations")
    with op.batch_alter_table("booking_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_changes_site_id")

    op.drop_table("booking_changes")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_account_id"))

    op.drop_table("web_sessions")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_account_id"))

    op.drop_table("recovery_codes")
    with op.batch_alter_table("cabins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cabins_site_code"))

    op.drop_table("cabins")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_site_slot")

    op.drop_table("bookings")
    op.drop_table("account_sites")
    op.drop_table("sites")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_key"))

    op.drop_table("login_failures")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_at")

    op.drop_table("audit")
    op.drop_table("api_tokens")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_cabin_id"))

    op.drop_table("alerts")
    op.drop_table("accounts")
