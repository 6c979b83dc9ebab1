"""Configuration of the call: cameras, audio, the video encoder. (Doctors' accounts are
at the hub.)"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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


class CallSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: CameraSettings = Field(default_factory=CameraSettings)
    exam_camera: CameraSettings | None = None
    video_encoder: VideoEncoderSettings = Field(default_factory=VideoEncoderSettings)
    audio_input: str | None = Field(None, description="ALSA/PulseAudio source; None: synthetic")
    audio_output: str | None = None
    doctor_absent_timeout_s: int = Field(300, ge=10, description="then: checkout")
