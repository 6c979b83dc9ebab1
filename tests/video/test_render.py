"""The doctor on the patient's screen: a real aiortc call on loopback into RemoteMediaSink,
rendered by pygame-ce headless (SDL dummy driver); every remote track drained."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from tests.polling import until
from tests.video.loopback_call import connect
from video.config import CallSettings
from video.media import cabin_tracks
from video.media_synthetic import BeepTrack, SolidColorTrack
from video.render import RemoteMediaSink
from video.render_window import fit

BOUND_S = 20.0  # a VP8 call on a busy 2-core machine
DOCTOR_RGB = (200, 40, 90)
COLOR_TOLERANCE = 12  # VP8 + YUV 4:2:0 round trip


async def poll(condition: Callable[[], bool], what: str) -> None:
    await until(condition, BOUND_S, what)


@pytest.fixture
async def sink() -> AsyncIterator[RemoteMediaSink]:
    sink = RemoteMediaSink(CallSettings(), headless=True, window_size=(640, 480))
    yield sink
    await sink.stop()


@pytest.mark.usefixtures("loopback_only")
async def test_doctor_video_reaches_the_screen() -> None:
    sink = RemoteMediaSink(CallSettings(), headless=True)
    video = SolidColorTrack(320, 240, 30, DOCTOR_RGB)
    audio = BeepTrack()
    doctor, cabin = await connect([video, audio], sink.add_track)
    try:
        await poll(lambda: sink.frames_rendered >= 10, "frames rendered")
        await poll(lambda: sink.audio_frames_drained >= 10, "audio drained")
        pixels = await sink.capture()
    finally:
        await doctor.close()
        await cabin.close()
        await sink.stop()
    # Headless, the surface takes the doctor's real pixel size: no cells, no scaling.
    assert pixels.shape == (240, 320, 3)
    centre = pixels[100:140, 140:180].reshape(-1, 3).astype(int)
    assert np.abs(centre - DOCTOR_RGB).max() <= COLOR_TOLERANCE
    assert sink.frames_received >= sink.frames_rendered


@pytest.mark.usefixtures("loopback_only")
async def test_self_view_in_the_corner(sink: RemoteMediaSink) -> None:
    media = cabin_tracks(CallSettings.model_validate({"camera": {"width": 320, "height": 240}}))
    sink.set_self_view(media.self_view())
    doctor_video = SolidColorTrack(640, 480, 30, DOCTOR_RGB)
    doctor, cabin = await connect([doctor_video], sink.add_track)
    try:
        await poll(lambda: sink.frames_rendered >= 5 and sink.self_view_frames >= 5, "frames")
        pixels = await sink.capture()
    finally:
        await doctor.close()
        await cabin.close()
        await media.aclose()
    h, w = pixels.shape[:2]
    assert (w, h) == (640, 480)
    corner = pixels[h - 60 : h - 20, w - 100 : w - 20].reshape(-1, 3).astype(int)
    # The test pattern, not the doctor's colour, shows in the bottom-right corner.
    assert np.abs(corner - DOCTOR_RGB).max() > 60
    top_left = pixels[10:50, 10:50].reshape(-1, 3).astype(int)
    assert np.abs(top_left - DOCTOR_RGB).max() <= COLOR_TOLERANCE


async def test_waiting_screen_before_the_doctor(sink: RemoteMediaSink) -> None:
    pixels = await sink.capture()
    assert pixels.shape == (480, 640, 3)
    assert sink.frames_rendered == 0
    # The French waiting message: light text pixels on the dark background.
    assert (pixels.max(axis=2) > 200).sum() > 100


async def test_stopped_sink_refuses_new_tracks(sink: RemoteMediaSink) -> None:
    await sink.stop()
    track = BeepTrack()
    sink.add_track(track)
    assert track.readyState == "ended"
    with pytest.raises(RuntimeError, match="no video window"):
        await sink.capture()


def test_fit_keeps_real_size_or_aspect() -> None:
    assert fit((640, 480), (1280, 720)) == (640, 480)
    assert fit((1920, 1080), (1280, 1024)) == (1280, 720)
    assert fit((1280, 720), (640, 640)) == (640, 360)


def _caught_signals() -> int:
    status = Path("/proc/self/status").read_text()
    return int(
        next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16
    )


async def test_window_leaves_the_daemons_signals_alone() -> None:
    # SDL installs SIGINT/SIGTERM handlers unless told not to: SIGTERM from systemd would
    # then become a window event and the daemon would never stop.
    before = _caught_signals()
    sink = RemoteMediaSink(CallSettings(), headless=True, window_size=(64, 48))
    try:
        await sink.capture()  # the window is open
        after = _caught_signals()
    finally:
        await sink.stop()
    term_bit = 1 << (15 - 1)
    assert after & term_bit == before & term_bit


@pytest.mark.usefixtures("loopback_only")
async def test_smaller_picture_is_shown_at_real_size_centred(sink: RemoteMediaSink) -> None:
    doctor, cabin = await connect([SolidColorTrack(320, 240, 30, DOCTOR_RGB)], sink.add_track)
    try:
        await poll(lambda: sink.frames_rendered >= 3, "frames")
        pixels = await sink.capture()
    finally:
        await doctor.close()
        await cabin.close()
    assert pixels.shape == (480, 640, 3)  # the window keeps its size
    inside = pixels[130:350, 170:470].reshape(-1, 3).astype(int)
    assert np.abs(inside - DOCTOR_RGB).max() <= COLOR_TOLERANCE
    outside = pixels[:110, :].reshape(-1, 3).astype(int)  # above the 240-row picture
    assert np.abs(outside - DOCTOR_RGB).min(axis=0).max() > 60


async def test_no_display_still_drains_the_doctor(monkeypatch: pytest.MonkeyPatch) -> None:
    # A cabin whose compositor is down: the call goes on, the video is read and dropped.
    monkeypatch.setenv("SDL_VIDEODRIVER", "wayland")
    monkeypatch.setenv("WAYLAND_DISPLAY", "/nonexistent/wayland-socket")
    sink = RemoteMediaSink(CallSettings(), headless=False)
    track = SolidColorTrack(64, 48, 30, DOCTOR_RGB)
    sink.add_track(track)
    try:
        await poll(lambda: sink.frames_received >= 3, "frames drained")
        await poll(lambda: sink.window.failed is not None, "the window gave up")
        with pytest.raises(RuntimeError, match="no video window"):
            await sink.capture()
        assert sink.frames_rendered == 0
        assert sink.summary()["window"] == "unavailable"
    finally:
        await sink.stop()


@pytest.mark.usefixtures("loopback_only")
async def test_doctor_heard_on_the_alsa_output() -> None:
    # ALSA's "null" device: a real ALSA playback at the device's pace, no sound card.
    sink = RemoteMediaSink(CallSettings(audio_output="alsa:null"), headless=True)
    doctor, cabin = await connect([BeepTrack()], sink.add_track)
    try:
        await poll(
            lambda: sink.audio_output is not None and sink.audio_output.frames_played >= 25,
            "audio played",
        )
        assert sink.audio_output is not None
        assert sink.audio_output.failed is None
    finally:
        await doctor.close()
        await cabin.close()
        await sink.stop()
    assert not sink.audio_output.is_alive()


@pytest.mark.usefixtures("loopback_only")
async def test_missing_speaker_loses_the_sound_not_the_call() -> None:
    sink = RemoteMediaSink(CallSettings(audio_output="alsa:no-such-speaker"), headless=True)
    doctor, cabin = await connect([BeepTrack()], sink.add_track)
    try:
        await poll(lambda: sink.audio_output is not None and sink.audio_output.failed, "fail")
        before = sink.audio_frames_drained
        await poll(lambda: sink.audio_frames_drained >= before + 10, "still drained")
    finally:
        await doctor.close()
        await cabin.close()
        await sink.stop()
    assert sink.audio_output is not None
    assert sink.audio_output.frames_played == 0


async def test_unusable_output_spec_still_drains() -> None:
    sink = RemoteMediaSink(CallSettings(audio_output="alsa:"), headless=True)
    sink.add_track(BeepTrack())
    try:
        await poll(lambda: sink.audio_frames_drained >= 5, "drained")
    finally:
        await sink.stop()
    assert sink.audio_output is None
