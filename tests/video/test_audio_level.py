"""The cabin's audio level (video/audio_level.py) equals aiortc's, for any frame."""

from __future__ import annotations

from collections.abc import Iterator

import aiortc.rtp
import numpy as np
import pytest
from av import AudioFrame

from video import audio_level
from video.audio_level import audio_level_dbov

AIORTC = aiortc.rtp.compute_audio_level_dbov


@pytest.fixture(autouse=True)
def aiortc_level_after() -> Iterator[None]:
    yield
    audio_level.HOOK.uninstall()


def frame(samples: np.ndarray, layout: str) -> AudioFrame:
    f = AudioFrame.from_ndarray(samples, format="s16", layout=layout)
    f.sample_rate = 48_000
    return f


def frames() -> Iterator[AudioFrame]:
    rng = np.random.default_rng(6465)
    yield frame(np.zeros((1, 960), dtype=np.int16), "mono")  # silence: -127
    yield frame(np.full((1, 960), 32767, dtype=np.int16), "mono")  # full scale: 0
    yield frame(np.full((1, 960), -32768, dtype=np.int16), "mono")  # beyond: clamped
    tone = (3276 * np.sin(np.arange(960) * 2 * np.pi * 440 / 48_000)).astype(np.int16)
    yield frame(tone[np.newaxis, :], "mono")
    for scale in (1, 30, 1000, 32767):
        noise = rng.integers(-scale, scale, size=(1, 960), dtype=np.int16, endpoint=True)
        yield frame(noise, "mono")
        stereo = rng.integers(-scale, scale, size=(1, 1920), dtype=np.int16, endpoint=True)
        yield frame(stereo, "stereo")  # packed s16: one plane, channels interleaved
    yield frame(rng.integers(-500, 500, size=(1, 441), dtype=np.int16), "mono")  # odd size


def test_same_levels_as_aiortc() -> None:
    levels = [(audio_level_dbov(f), AIORTC(f)) for f in frames()]
    assert [ours for ours, _ in levels] == [theirs for _, theirs in levels]
    assert levels[0][0] == -127 and levels[1][0] == 0 and levels[2][0] == 0
    assert len({ours for ours, _ in levels}) >= 6  # the frames span many levels


def test_installed_where_the_sender_looks() -> None:
    audio_level.HOOK.install()
    assert audio_level.HOOK.installed
    assert aiortc.rtp.compute_audio_level_dbov is audio_level_dbov
    audio_level.HOOK.uninstall()
    assert aiortc.rtp.compute_audio_level_dbov is AIORTC
