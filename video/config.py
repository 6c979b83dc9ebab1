"""Configuration of the call: cameras, audio, doctor accounts."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hub.shared.practitioner import check_address, check_email, check_rpps, normalise_phone


class CameraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str | None = Field(None, description="v4l2 device; None: synthetic source")
    width: int = Field(1280, ge=160, le=3840)
    height: int = Field(720, ge=120, le=2160)
    fps: int = Field(30, ge=1, le=60)


class VideoEncoderSettings(BaseModel):
    """How the cabin encodes its cameras (VP8, libvpx); see video/codecs.py."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    denoise: bool = Field(
        False, description="libvpx temporal denoiser: for a noisy camera; doubles encoder CPU"
    )
    speed: int = Field(
        -6, ge=-16, le=-4, description="libvpx cpu-used, real time: further from 0 is faster"
    )


class DoctorAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(pattern=r"^[a-z0-9._-]+$")
    display_name: str
    password_hash: str = Field(description="argon2 hash ('kiosk doctor hash-password')")
    specialty: str = "Médecine générale"
    # The prescriber's mentions the console pre-fills on the prescription (checked here as
    # on a prescription, so a mistake shows at the daemon's start, not at the first print).
    rpps: Annotated[str, AfterValidator(check_rpps)] | None = None
    address: Annotated[str, AfterValidator(check_address)] | None = Field(
        None, description="professional address, ending with 'France'"
    )
    phone: Annotated[str, AfterValidator(normalise_phone)] | None = None
    email: Annotated[str, AfterValidator(check_email)] | None = None


class CallSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: CameraSettings = Field(default_factory=CameraSettings)
    exam_camera: CameraSettings | None = None
    video_encoder: VideoEncoderSettings = Field(default_factory=VideoEncoderSettings)
    audio_input: str | None = Field(None, description="ALSA/PulseAudio source; None: synthetic")
    audio_output: str | None = None
    doctors: list[DoctorAccount] = Field(default_factory=list)
    doctor_absent_timeout_s: int = Field(300, ge=10, description="then: checkout")
