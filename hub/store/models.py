"""The hub's tables, written once for SQLite and PostgreSQL (SQLAlchemy 2).

Changing a table means a new Alembic revision in hub/store/migrations/versions/;
tests/hub/test_store.py checks the migrations give exactly these tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.store.types import BigId, UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


# --- people and their logins -----------------------------------------------------------


class Account(Base):
    """A doctor, coordinator, technician or administrator."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]]
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None]
    # The RFC 6238 time step of the last code accepted: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column(BigId)
    specialty: Mapped[str | None] = mapped_column(String(200))
    rpps: Mapped[str | None] = mapped_column(String(11))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class AccountSite(Base):
    """The sites whose patients a doctor may see (and a coordinator may book)."""

    __tablename__ = "account_sites"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    site_code: Mapped[str] = mapped_column(String(16), primary_key=True)


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A browser's login. Only the token's SHA-256 is kept."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Set once the second factor was given; until then the session only reaches the
    # second-factor pages.
    second_factor_at: Mapped[datetime | None]


class LoginFailure(Base):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), index=True)
    at: Mapped[datetime]


class ApiToken(Base):
    """A booking platform's bearer token (its SHA-256)."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[list[str]]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


# --- sites and cabins ------------------------------------------------------------------


class Site(Base):
    """A site of the configuration, kept here so rows can refer to it and lock it."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class Cabin(Base):
    __tablename__ = "cabins"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    created_at: Mapped[datetime]
    # The one-time enrolment secret's SHA-256, until the cabin uses it.
    enrolment_hash: Mapped[str | None] = mapped_column(String(64))
    enrolment_expires_at: Mapped[datetime | None]
    credential_hash: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    outbox_epoch: Mapped[str | None] = mapped_column(String(64))
    last_outbox_seq: Mapped[int] = mapped_column(BigId, default=0)
    appointments_cursor: Mapped[int] = mapped_column(BigId, default=0)
    software_version: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[dict[str, Any] | None]
    status_at: Mapped[datetime | None]
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    online_since: Mapped[datetime | None]
    offline_since: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    hygiene_chain_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    hygiene_chain_problem: Mapped[str | None] = mapped_column(String(300))


class SessionEventRow(Base):
    __tablename__ = "session_events"
    __table_args__ = (UniqueConstraint("cabin_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cabin_id: Mapped[str] = mapped_column(ForeignKey("cabins.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    session_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    previous: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    appointment_id: Mapped[str | None] = mapped_column(String(64))


class HygieneEntryRow(Base):
    """The cabins' disinfection logs as received, chain and all."""

    __tablename__ = "hygiene_entries"

    cabin_id: Mapped[str] = mapped_column(ForeignKey("cabins.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]


# --- the queue and consultations -------------------------------------------------------


class WaitingPatientRow(Base):
    """Who waits in each booth now (deleted once a doctor has them or they leave)."""

    __tablename__ = "waiting_patients"

    cabin_id: Mapped[str] = mapped_column(ForeignKey("cabins.id"), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64))
    site_code: Mapped[str] = mapped_column(String(16), index=True)
    given_name: Mapped[str] = mapped_column(String(100))
    age: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    appointment_start: Mapped[datetime | None]
    walk_in: Mapped[bool] = mapped_column(Boolean)
    waiting_since: Mapped[datetime]


class Consultation(Base):
    """A doctor's claim of a waiting patient: one per cabin session, whoever clicks."""

    __tablename__ = "consultations"
    __table_args__ = (UniqueConstraint("cabin_id", "session_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cabin_id: Mapped[str] = mapped_column(ForeignKey("cabins.id"))
    session_id: Mapped[str] = mapped_column(String(64))
    site_code: Mapped[str] = mapped_column(String(16))
    doctor_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    claimed_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


# --- consultation records --------------------------------------------------------------


class ConsultationRecordRow(Base):
    """One consultation's record at the hub, from two halves: the report the doctor writes
    in the console (a draft until signed) and the cabin's part (hub.shared.wire.CabinRecord:
    the patient, measurements, prescription) that arrives through its outbox at the
    session's end. With both, and the report signed, the record is complete and delivered."""

    __tablename__ = "consultation_records"

    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), primary_key=True)
    doctor_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    cabin_id: Mapped[str] = mapped_column(String(63))
    session_id: Mapped[str] = mapped_column(String(64))
    site_code: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]  # the doctor's claim, until the cabin's part says better
    report: Mapped[dict[str, Any]]  # hub.shared.record.Report's fields ({} at first)
    report_saved_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    cabin_part: Mapped[dict[str, Any] | None]  # wire.CabinRecord as JSON, once received
    cabin_part_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]  # both halves there and signed: deliveries made
    # What the doctor's history searches: "FAMILY Given", lower-cased, accents removed.
    patient_search: Mapped[str | None] = mapped_column(String(300))


class RecordDelivery(Base):
    """Where a complete record goes, one row per channel: ``mail`` (the patient's GP, over
    SMTP), ``fhir`` (the configured FHIR server), ``print`` (the patient's copy at the
    cabin's checkout, as the cabin reported it). ``state``: pending, delivered, retrying,
    dead (given up: the technician's dead-letter list, which can replay it); for the
    print: delivered (printed), failed, declined, unanswered, not_offered."""

    __tablename__ = "record_deliveries"
    __table_args__ = (
        UniqueConstraint("consultation_id", "channel"),
        Index("ix_record_deliveries_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultation_records.consultation_id"))
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(300))  # an address, an endpoint, a cabin
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


# --- booking ---------------------------------------------------------------------------


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_site_slot", "site_code", "slot_start"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500))
    code: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    checked_in_at: Mapped[datetime | None]
    # The INS traits beyond the names, birth date and sex above (hub.shared.ins.Patient's
    # other fields: birth name, first names, birth place, INS number), and the patient's
    # own GP (hub.shared.ins.GeneralPractitioner), when the booking gave them.
    identity: Mapped[dict[str, Any] | None]
    general_practitioner: Mapped[dict[str, Any] | None]


class BookingChange(Base):
    """One row per change of a booking: the feed each cabin of the site follows."""

    __tablename__ = "booking_changes"
    __table_args__ = (Index("ix_booking_changes_site_id", "site_code", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"))
    site_code: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


# --- audit and alerts ------------------------------------------------------------------


class AuditEntry(Base):
    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))  # username, cabin id or token name
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(160))
    outcome: Mapped[str] = mapped_column(String(16))  # ok, refused
    detail: Mapped[dict[str, Any]]
    client: Mapped[str] = mapped_column(String(64))


class Alert(Base):
    """An alert raised once per occurrence (``key``), delivered once to the webhook."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    cabin_id: Mapped[str] = mapped_column(String(63), index=True)
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
