"""The protocol between a cabin and the hub, over the one WebSocket the cabin opens.

Every frame is one JSON object with a ``type``, validated on arrival by the models below
(pydantic, discriminated on ``type``); a frame that is not one of ours raises
``FrameInvalid`` and the receiver answers ``error`` and changes nothing. ``PROTOCOL``
is the version: the cabin says it in ``hello``, a hub that cannot speak it closes the
socket with a message that says so.

What travels here:
- presence: ``hello``/``welcome`` at the start, then ``heartbeat``/``heartbeat_ack``;
- the cabin's durable outbox (``outbox`` items, acknowledged by ``ack``): its status, the
  session events and the hygiene log entries, delivered exactly once and in order;
- the live queue: ``waiting_patient`` says who waits in the booth now (never stored in
  the cabin's outbox: it is current state, sent again after every reconnect);
- the appointments the hub pushes to the cabin (``appointments``, acknowledged by
  ``appointments_applied``) so that they check in even while the hub is unreachable;
- the consultation record: the cabin's part (``outbox`` kind ``consultation_record``), and
  the report the doctor signed, sent to the cabin for the patient's printed copy
  (``report_signed``);
- the call's signaling, relayed by the hub between the doctor's console and the cabin:
  ``doctor_attached``/``doctor_detached``, ``from_doctor`` and ``to_doctor`` (their
  ``message`` is one of hub/shared/console_messages.py). Media never goes through here.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from hub.shared.hours import OpeningHours
from hub.shared.ins import GeneralPractitioner, Patient
from hub.shared.prescription import MAX_ITEMS, Item
from hub.shared.record import MAX_OBSERVATIONS, Observation, PrescriptionDocument, Report

PROTOCOL = 1
CABIN_WS_PATH = "/cabin/ws"
ENROL_PATH = "/cabin/enrol"
# A frame carries at most a relayed SDP or prescription, or a page of appointments.
MAX_FRAME_BYTES = 512 * 1024
# Appointments pushed in one frame (a site's day is a few dozen).
MAX_APPOINTMENTS_PER_FRAME = 200
# WebSocket close codes the cabin acts on (4000-4999 are the application's).
CLOSE_AUTH_REFUSED = 4401  # unknown cabin, wrong or revoked credential: do not retry blindly
CLOSE_PROTOCOL = 4400  # a protocol version the hub does not speak
CLOSE_REPLACED = 4409  # the same cabin connected again: this older socket is closed

CabinId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
SessionId = Annotated[str, Field(min_length=1, max_length=64)]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- what both sides say about the cabin ----------------------------------------------


class InstrumentStatus(Frame):
    name: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    state: str = Field(max_length=32)
    detail: str = Field("", max_length=300)
    battery_percent: int | None = Field(None, ge=0, le=100)


class PrinterStatus(Frame):
    state: str = Field(max_length=32)  # ok, warning, error, unreachable, none
    message: str = Field("", max_length=300)
    paper_low: bool = False


class LastDisinfection(Frame):
    at: AwareDatetime
    seq: int = Field(ge=1)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class CabinStatus(Frame):
    """The cabin as the fleet dashboard shows it. No patient data."""

    state: str = Field(max_length=32)
    locked: bool
    since: AwareDatetime
    session_active: bool
    call_state: str | None = Field(None, max_length=32)
    instruments: list[InstrumentStatus] = Field(default_factory=list, max_length=64)
    printer: PrinterStatus | None = None
    last_disinfection: LastDisinfection | None = None
    awaiting_disinfection_since: AwareDatetime | None = None
    software_version: str = Field("", max_length=64)


class SessionEvent(Frame):
    """A lifecycle transition of the cabin (ids and states only)."""

    session_id: SessionId | None
    state: str = Field(max_length=32)
    previous: str = Field(max_length=32)
    at: AwareDatetime
    # The hub's booking id when the patient checked in with a pushed appointment.
    appointment_id: str | None = Field(None, max_length=64)


class HygieneEntry(Frame):
    """One entry of the cabin's chained disinfection log, as the cabin stored it."""

    content: dict[str, Any]
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    @property
    def seq(self) -> int:
        return int(self.content["seq"])


class PrescriptionSigned(Frame):
    """A prescription the cabin stored to print (signed by the consultation's doctor):
    for the hub's audit trail. Ids and a digest only, never its content."""

    document_id: str = Field(min_length=1, max_length=64)
    number: str = Field(min_length=1, max_length=64)
    session_id: SessionId | None
    signed_at: AwareDatetime
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


PrintedCopy = Literal["printed", "failed", "declined", "unanswered", "not_offered"]


class CabinRecord(Frame):
    """The cabin's part of a consultation record, handed over once the session is over:
    who the patient said they are, what was measured, what was prescribed, and whether
    the patient took a printed copy of the report. The hub joins it to the report the
    doctor signed there (hub/records/); the cabin deletes its copy once acknowledged.
    Only for a session a doctor attached to (``consultation_id`` as in doctor_attached)."""

    consultation_id: str = Field(min_length=1, max_length=64)
    session_id: SessionId
    started_at: AwareDatetime  # the doctor attached
    ended_at: AwareDatetime  # the consultation ended (checkout)
    patient: Patient
    general_practitioner: GeneralPractitioner | None = None
    observations: list[Observation] = Field(default_factory=list, max_length=MAX_OBSERVATIONS)
    prescription_lines: list[Item] = Field(default_factory=list, max_length=MAX_ITEMS)
    prescription: PrescriptionDocument | None = None  # its PDF, as printed
    printed_copy: PrintedCopy = "not_offered"


OutboxKind = Literal[
    "status", "session_event", "hygiene_entry", "prescription", "consultation_record"
]
OUTBOX_PAYLOADS: dict[str, type[Frame]] = {
    "status": CabinStatus,
    "session_event": SessionEvent,
    "hygiene_entry": HygieneEntry,
    "prescription": PrescriptionSigned,
    "consultation_record": CabinRecord,
}


class WaitingPatient(Frame):
    """What a doctor's queue shows of the patient waiting in a booth."""

    given_name: str = Field(min_length=1, max_length=100)
    age: int = Field(ge=0, le=130)
    reason: str = Field("", max_length=500)
    appointment_start: AwareDatetime | None = None
    walk_in: bool = False
    waiting_since: AwareDatetime


class IceServer(Frame):
    urls: list[str] = Field(min_length=1, max_length=8)
    username: str | None = None
    credential: str | None = None


IcePolicy = Literal["all", "relay"]


class DoctorProfile(Frame):
    """The doctor of a consultation, as the cabin needs them: the prescriber's mentions."""

    id: str = Field(max_length=64)
    display_name: str = Field(max_length=200)
    specialty: str = Field("Médecine générale", max_length=200)
    rpps: str | None = Field(None, max_length=11)
    address: str | None = Field(None, max_length=300)
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=200)


class SiteInfo(Frame):
    code: str = Field(max_length=16)
    name: str = Field(max_length=200)
    hours: OpeningHours


class AppointmentChange(Frame):
    """One booking as the cabin must now know it: created or changed, or cancelled."""

    id: str = Field(max_length=64)
    action: Literal["upsert", "cancel"]
    code: str | None = Field(None, pattern=r"^[0-9]{6}$")
    slot_start: AwareDatetime | None = None
    slot_end: AwareDatetime | None = None
    family_name: str | None = Field(None, max_length=100)
    given_name: str | None = Field(None, max_length=100)
    birth_date: date | None = None
    sex: Literal["F", "M"] | None = None
    reason: str = Field("", max_length=500)
    # The INS traits, when the booking took them (the same person as the names above,
    # which stay what check-in matches), and the patient's own GP.
    patient: Patient | None = None
    general_practitioner: GeneralPractitioner | None = None

    @model_validator(mode="after")
    def _upsert_is_whole(self) -> AppointmentChange:
        if self.action == "upsert":
            needed = {
                "code": self.code,
                "slot_start": self.slot_start,
                "slot_end": self.slot_end,
                "family_name": self.family_name,
                "given_name": self.given_name,
                "birth_date": self.birth_date,
            }
            missing = [name for name, value in needed.items() if value is None]
            if missing:
                raise ValueError(f"an upsert needs {', '.join(missing)}")
            if self.slot_end <= self.slot_start:  # type: ignore[operator]
                raise ValueError("slot_end must be after slot_start")
        return self


# --- cabin → hub ---------------------------------------------------------------------


class Hello(Frame):
    type: Literal["hello"]
    protocol: int
    cabin_id: CabinId
    software_version: str = Field("", max_length=64)
    # A random id of the cabin's outbox, made when its database was: a new one (a cabin
    # reinstalled) restarts the sequence numbers.
    outbox_epoch: str = Field(min_length=8, max_length=64)
    appointments_cursor: int = Field(ge=0)


class Heartbeat(Frame):
    type: Literal["heartbeat"]
    sent_at: AwareDatetime


class OutboxItem(Frame):
    type: Literal["outbox"]
    seq: int = Field(ge=1)
    key: str = Field(min_length=8, max_length=80)  # idempotency key
    kind: OutboxKind
    created_at: AwareDatetime
    payload: dict[str, Any]

    def parsed(self) -> Frame:
        """The payload as its kind's model, or FrameInvalid."""
        try:
            return OUTBOX_PAYLOADS[self.kind].model_validate(self.payload)
        except ValidationError as exc:
            raise FrameInvalid(_describe(exc, f"outbox {self.kind}")) from exc


class WaitingPatientFrame(Frame):
    type: Literal["waiting_patient"]
    session_id: SessionId | None
    patient: WaitingPatient | None  # None: nobody waits for a doctor now


class ToDoctor(Frame):
    type: Literal["to_doctor"]
    consultation_id: str = Field(max_length=64)
    message: dict[str, Any]


class AppointmentsApplied(Frame):
    type: Literal["appointments_applied"]
    cursor: int = Field(ge=0)


CabinFrame = Annotated[
    Hello | Heartbeat | OutboxItem | WaitingPatientFrame | ToDoctor | AppointmentsApplied,
    Field(discriminator="type"),
]


# --- hub → cabin ---------------------------------------------------------------------


class Welcome(Frame):
    type: Literal["welcome"]
    protocol: int
    server_time: AwareDatetime
    acked_seq: int = Field(ge=0)  # the last outbox item the hub has applied
    heartbeat_s: float = Field(gt=0)
    site: SiteInfo
    ice_servers: list[IceServer] = Field(default_factory=list)
    ice_policy: IcePolicy = "all"


class Ack(Frame):
    type: Literal["ack"]
    seq: int = Field(ge=1)


class HeartbeatAck(Frame):
    type: Literal["heartbeat_ack"]
    sent_at: AwareDatetime


class Appointments(Frame):
    type: Literal["appointments"]
    changes: list[AppointmentChange] = Field(max_length=MAX_APPOINTMENTS_PER_FRAME)
    cursor: int = Field(ge=0)  # the cabin reports it back once the changes are stored


class DoctorAttached(Frame):
    type: Literal["doctor_attached"]
    consultation_id: str = Field(max_length=64)
    session_id: SessionId
    doctor: DoctorProfile
    ice_servers: list[IceServer] = Field(default_factory=list)
    ice_policy: IcePolicy = "all"


class DoctorDetached(Frame):
    type: Literal["doctor_detached"]
    consultation_id: str = Field(max_length=64)


class ReportSigned(Frame):
    """The report the doctor signed at the hub, for the cabin's printed copy at checkout
    (the hub keeps the report itself; the cabin's CabinRecord does not carry it back)."""

    type: Literal["report_signed"]
    consultation_id: str = Field(max_length=64)
    session_id: SessionId
    report: Report
    signed_at: AwareDatetime


class FromDoctor(Frame):
    type: Literal["from_doctor"]
    consultation_id: str = Field(max_length=64)
    message: dict[str, Any]


class ErrorFrame(Frame):
    type: Literal["error"]
    message: str
    in_reply_to: str | None = None


HubFrame = Annotated[
    Welcome
    | Ack
    | HeartbeatAck
    | Appointments
    | DoctorAttached
    | DoctorDetached
    | ReportSigned
    | FromDoctor
    | ErrorFrame,
    Field(discriminator="type"),
]

_CABIN_FRAMES: TypeAdapter[CabinFrame] = TypeAdapter(CabinFrame)
_HUB_FRAMES: TypeAdapter[HubFrame] = TypeAdapter(HubFrame)


class FrameInvalid(ValueError):
    """A frame that is not one of ours. Nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _load(raw: str | bytes) -> dict[str, Any]:
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameInvalid(f"frame too large (over {MAX_FRAME_BYTES} bytes)")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FrameInvalid("the frame is not JSON") from exc
    if not isinstance(data, dict):
        raise FrameInvalid("the frame must be a JSON object")
    return data


def parse_cabin_frame(raw: str | bytes) -> CabinFrame:
    data = _load(raw)
    try:
        return _CABIN_FRAMES.validate_python(data)
    except ValidationError as exc:
        raise FrameInvalid(_describe(exc, str(data.get("type", "frame")))) from exc


def parse_hub_frame(raw: str | bytes) -> HubFrame:
    data = _load(raw)
    try:
        return _HUB_FRAMES.validate_python(data)
    except ValidationError as exc:
        raise FrameInvalid(_describe(exc, str(data.get("type", "frame")))) from exc


def encode(frame: Frame) -> str:
    return frame.model_dump_json()


def _describe(exc: ValidationError, what: str) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(frame)"
        parts.append(f"{where}: {err['msg']}")
    return f"invalid {what}: " + "; ".join(parts)


def cabin_ws_url(hub_url: str) -> str:
    """wss://host/cabin/ws from the hub's https:// base URL (ws:// from http://)."""
    base = hub_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + CABIN_WS_PATH
    if base.startswith("http://"):
        return "ws://" + base.removeprefix("http://") + CABIN_WS_PATH
    raise ValueError(f"{hub_url!r} is not an http:// or https:// URL")
