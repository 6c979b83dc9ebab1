"""Every message between the doctor's console and the cabin, both ways: over the hub (which
relays them between the doctor's WebSocket and the cabin's) and over the call's data channel.

Doctor → cabin messages are validated here (pydantic, discriminated on ``type``); an
invalid one becomes ``MessageInvalid`` and the caller answers with an ``error`` message
and changes nothing. Cabin → doctor messages are built from the models below so their
shape is checked too."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

# A signaling message carries at most an SDP (a few KB) or a prescription: anything
# larger is not one of ours.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_CHAT_CHARS = 2000
MAX_INSTRUCTION_CHARS = 500
MAX_SDP_CHARS = 64 * 1024


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Optional id chosen by the sender, echoed as in_reply_to in an error.
    id: str | None = Field(None, max_length=64)


# --- doctor → cabin -------------------------------------------------------------------


class Join(_Msg):
    type: Literal["join"]


class Leave(_Msg):
    type: Literal["leave"]


class Answer(_Msg):
    type: Literal["answer"]
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    generation: int = Field(ge=0)


class IceCandidate(_Msg):
    type: Literal["ice_candidate"]
    generation: int = Field(ge=0)
    # None or "": end of candidates.
    candidate: str | None = Field(None, max_length=1024)
    sdp_mid: str | None = Field(None, max_length=32)
    sdp_mline_index: int | None = Field(None, ge=0, le=16)


class IceRestart(_Msg):
    """The doctor's browser saw the connection drop and asks for a restart."""

    type: Literal["ice_restart"]
    generation: int = Field(ge=0)  # the connection that dropped (a newer one may be up)


class End(_Msg):
    type: Literal["end"]


class Measure(_Msg):
    type: Literal["measure"]
    instrument: str = Field(min_length=1, max_length=64)


class Instruction(_Msg):
    type: Literal["instruction"]
    text: str = Field(min_length=1, max_length=MAX_INSTRUCTION_CHARS)


class Chat(_Msg):
    type: Literal["chat"]
    text: str = Field(min_length=1, max_length=MAX_CHAT_CHARS)


class Prescription(_Msg):
    """The prescription JSON of the printer's model (validated by the printer)."""

    type: Literal["prescription"]
    prescription: dict[str, Any]


class ShowExamCamera(_Msg):
    type: Literal["show_exam_camera"]
    on: bool


DoctorMessage = Annotated[
    Join
    | Leave
    | Answer
    | IceCandidate
    | IceRestart
    | End
    | Measure
    | Instruction
    | Chat
    | Prescription
    | ShowExamCamera,
    Field(discriminator="type"),
]

_DOCTOR_ADAPTER: TypeAdapter[DoctorMessage] = TypeAdapter(DoctorMessage)

# Messages the data channel may carry (signaling stays on the WebSocket).
DATA_CHANNEL_TYPES = frozenset(
    {"end", "measure", "instruction", "chat", "prescription", "show_exam_camera"}
)


class MessageInvalid(ValueError):
    """A message from the doctor that is not one of ours. Nothing was changed."""

    def __init__(self, message: str, in_reply_to: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.in_reply_to = in_reply_to


def parse_doctor_message(raw: str | bytes) -> DoctorMessage:
    """Validate one message from the doctor's browser, or raise MessageInvalid."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageInvalid(f"message too large (over {MAX_MESSAGE_BYTES} bytes)")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MessageInvalid("the message is not JSON") from exc
    if not isinstance(data, dict):
        raise MessageInvalid("the message must be a JSON object")
    msg_id = data.get("id") if isinstance(data.get("id"), str) else None
    try:
        return _DOCTOR_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise MessageInvalid(_describe(exc), in_reply_to=msg_id) from exc


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(message)"
        parts.append(f"{where}: {err['msg']}")
    return "invalid message: " + "; ".join(parts)


# --- cabin → doctor -------------------------------------------------------------------


class Offer(BaseModel):
    type: Literal["offer"] = "offer"
    sdp: str
    generation: int
    restart: bool = False


class InstrumentInfo(BaseModel):
    name: str
    kind: str
    state: str = "absent"
    detail: str = ""
    battery_percent: int | None = None


class StateOut(BaseModel):
    type: Literal["state"] = "state"
    cabin_state: str
    call_state: str
    doctor: str | None = None
    # The logged-in doctor's prescriber fields the console pre-fills (video/printing.py).
    prescriber: dict[str, str] = Field(default_factory=dict)
    exam_camera_available: bool = False
    exam_camera_on: bool = False
    instruments: list[InstrumentInfo] = Field(default_factory=list)


class PatientOut(BaseModel):
    type: Literal["patient"] = "patient"
    patient: dict[str, Any] | None


class MeasurementOut(BaseModel):
    type: Literal["measurement"] = "measurement"
    instrument: str
    at: str
    measurement: dict[str, Any]


class InstrumentStateOut(BaseModel):
    type: Literal["instrument_state"] = "instrument_state"
    instrument: str
    kind: str
    state: str
    detail: str = ""
    battery_percent: int | None = None


class ChatOut(BaseModel):
    type: Literal["chat"] = "chat"
    sender: Literal["doctor", "patient"]
    text: str
    at: str


class PrintJobOut(BaseModel):
    type: Literal["print_job"] = "print_job"
    document_id: str
    document: str
    state: str
    message: str = ""


class CallQualityOut(BaseModel):
    type: Literal["call_quality"] = "call_quality"
    rtt_ms: float | None = None
    loss_percent: float | None = None
    bitrate_in_kbps: float | None = None
    bitrate_out_kbps: float | None = None
    frames_received: int = 0


class ErrorOut(BaseModel):
    type: Literal["error"] = "error"
    message: str
    in_reply_to: str | None = None
    problems: list[dict[str, str]] | None = None


class Accepted(BaseModel):
    """A doctor's request was carried out (e.g. a prescription was stored for printing)."""

    type: Literal["accepted"] = "accepted"
    request: str
    in_reply_to: str | None = None
    detail: str = ""


CabinMessage = (
    Offer
    | StateOut
    | PatientOut
    | MeasurementOut
    | InstrumentStateOut
    | ChatOut
    | PrintJobOut
    | CallQualityOut
    | ErrorOut
    | Accepted
)


def encode(msg: CabinMessage) -> str:
    return msg.model_dump_json()
