"""The cabin's media sources: synthetic camera/exam/microphone, exam hiding, device errors."""

from __future__ import annotations

import asyncio
import itertools
import time

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from video.config import CallSettings, CameraSettings
from video.media import MediaDeviceError, audio_device, cabin_tracks
from video.media_synthetic import AUDIO_RATE, VIDEO_CLOCK_RATE, TestPatternTrack

FRAME_BOUND_S = 10.0  # generous: the machine is shared


def call_settings(**kw: object) -> CallSettings:
    return CallSettings.model_validate(kw)


async def read_frames(track, n: int) -> list:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(FRAME_BOUND_S):
        return [await track.recv() for _ in range(n)]


@pytest.mark.parametrize(("width", "height", "fps"), [(640, 480, 30), (1280, 720, 15)])
async def test_camera_frames_have_configured_size_and_rate(
    width: int, height: int, fps: int
) -> None:
    media = cabin_tracks(call_settings(camera={"width": width, "height": height, "fps": fps}))
    try:
        start = time.monotonic()
        frames = await read_frames(media.camera, 16)
        elapsed = time.monotonic() - start
    finally:
        await media.aclose()
    assert {(f.width, f.height) for f in frames} == {(width, height)}
    step = VIDEO_CLOCK_RATE / fps
    deltas = {round((b.pts - a.pts) / step) for a, b in itertools.pairwise(frames)}
    assert deltas <= {1, 2}  # a slow consumer may skip a frame, never go back
    assert frames[-1].pts > frames[0].pts
    # 15 frame periods are paced: at least most of them, never much faster than the camera.
    assert elapsed >= 0.7 * 15 / fps


async def test_pattern_moves_and_counts() -> None:
    track = TestPatternTrack(320, 240, 30)
    try:
        a, b = await read_frames(track, 2)
    finally:
        track.stop()
    ya = a.to_ndarray(format="gray")
    yb = b.to_ndarray(format="gray")
    assert not np.array_equal(ya, yb)
    # The bars: several distinct luma levels along a row below the counter box.
    assert len(np.unique(ya[-10])) >= 6


async def test_stopped_track_ends() -> None:
    media = cabin_tracks(call_settings())
    await read_frames(media.camera, 1)
    await media.aclose()
    with pytest.raises(MediaStreamError):
        await media.camera.recv()
    with pytest.raises(MediaStreamError):
        await media.audio.recv()


async def test_self_view_shares_the_camera() -> None:
    media = cabin_tracks(call_settings(camera={"width": 320, "height": 240, "fps": 30}))
    view = media.self_view()
    try:
        sent, seen = await asyncio.gather(read_frames(media.camera, 5), read_frames(view, 5))
    finally:
        await media.aclose()
    # Both consumers get the same live frames (latest-frame fan-out, no copy per reader).
    assert {f.pts for f in sent} & {f.pts for f in seen}


async def test_synthetic_audio_is_48k_mono_20ms_with_a_beep() -> None:
    media = cabin_tracks(call_settings())
    try:
        frames = await read_frames(media.audio, 10)
    finally:
        await media.aclose()
    assert {(f.sample_rate, f.samples, len(f.layout.channels)) for f in frames} == {
        (AUDIO_RATE, 960, 1)
    }
    assert [f.pts for f in frames] == [i * 960 for i in range(10)]
    first = frames[0].to_ndarray()
    assert np.abs(first).max() > 1000  # the beep starts each second
    assert np.abs(frames[9].to_ndarray()).max() == 0  # then silence


async def test_exam_camera_hidden_sends_black_frames() -> None:
    media = cabin_tracks(call_settings(exam_camera={"width": 320, "height": 240, "fps": 30}))
    assert media.exam is not None
    try:
        (shown,) = await read_frames(media.exam, 1)
        media.set_exam_visible(False)
        assert not media.exam_visible
        hidden = await read_frames(media.exam, 2)
        media.set_exam_visible(True)
        (again,) = await read_frames(media.exam, 1)
    finally:
        await media.aclose()
    assert shown.to_ndarray(format="gray").max() > 200
    for frame in hidden:
        assert (frame.width, frame.height) == (320, 240)
        assert frame.to_ndarray(format="gray").max() <= 16
    assert hidden[1].pts > hidden[0].pts > shown.pts
    assert again.to_ndarray(format="gray").max() > 200


async def test_no_exam_camera_configured() -> None:
    media = cabin_tracks(call_settings())
    media.set_exam_visible(True)  # no-op, no error
    assert media.exam is None
    assert not media.exam_visible
    await media.aclose()


def test_missing_camera_device_names_it() -> None:
    settings = call_settings(camera={"device": "/dev/video-nonexistent"})
    with pytest.raises(MediaDeviceError, match="/dev/video-nonexistent") as err:
        cabin_tracks(settings)
    assert err.value.role == "camera"


def test_missing_exam_device_names_it_and_closes_the_rest() -> None:
    settings = call_settings(exam_camera=CameraSettings(device="/dev/otoscope-missing"))
    with pytest.raises(MediaDeviceError, match="exam camera '/dev/otoscope-missing'"):
        cabin_tracks(settings)


def test_missing_microphone_names_it() -> None:
    with pytest.raises(MediaDeviceError, match="microphone 'alsa:nosuchcard'"):
        cabin_tracks(call_settings(audio_input="alsa:nosuchcard"))


def test_synthetic_false_requires_devices() -> None:
    with pytest.raises(MediaDeviceError, match="no device configured"):
        cabin_tracks(call_settings(), synthetic=False)


def test_synthetic_true_ignores_devices() -> None:
    media = cabin_tracks(call_settings(camera={"device": "/dev/nope"}), synthetic=True)
    media.close()


def test_audio_device_spec() -> None:
    assert audio_device("alsa:plughw:1,0") == ("alsa", "plughw:1,0")
    assert audio_device("default") == ("alsa", "default")
    with pytest.raises(MediaDeviceError, match="no device name"):
        audio_device("alsa:")


async def test_microphone_through_alsa() -> None:
    # ALSA's "null" capture device (silence): the real MediaPlayer/ALSA path, no sound card.
    media = cabin_tracks(call_settings(audio_input="alsa:null"))
    try:
        frames = await read_frames(media.audio, 5)
    finally:
        await media.aclose()
    assert {f.sample_rate for f in frames} == {AUDIO_RATE}
    assert frames[-1].pts > frames[0].pts


async def test_call_media_releases_the_camera_when_its_close_is_cancelled() -> None:
    """The daemon cancels its tasks at shutdown, maybe while a call's end is stopping the
    patient's screen: the camera must be released anyway (its reader task must end)."""
    from video.render import RemoteMediaSink
    from video.tracks import CallMedia

    media = cabin_tracks(call_settings(camera={"width": 320, "height": 240, "fps": 30}))
    sink = RemoteMediaSink(CallSettings(), headless=True, window_size=(64, 48))
    call = CallMedia(media, sink)
    await read_frames(media.camera, 1)  # the camera reader runs
    stopping = asyncio.Event()
    real_stop = sink.stop

    async def stuck_stop() -> None:  # a window join that has not returned yet
        stopping.set()
        await asyncio.sleep(3600)

    sink.stop = stuck_stop  # type: ignore[method-assign]
    closing = asyncio.create_task(call.close())
    await stopping.wait()
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    readers = [t for t in asyncio.all_tasks() if t.get_name() == "cabin-media-reader"]
    assert all(t.done() for t in readers), "the camera reader outlived the call"
    assert media.closed
    with pytest.raises(MediaStreamError):
        await media.camera.recv()
    await real_stop()
