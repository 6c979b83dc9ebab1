"""Synthetic media sources for the demo and tests: a moving test pattern and a beep.

The pattern is built directly in YUV 4:2:0 (what the encoders want, so no colour conversion
per frame): colour bars that scroll sideways, with the frame number and the elapsed time
drawn in big digits, so a viewer sees at a glance that the picture is live. Each frame is
drawn straight into the planes of a new frame: one copy of each plane, about 0.3 ms at
1280x720 on this machine, against 2.5-5 ms to encode it.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame
from av.video.plane import VideoPlane

VIDEO_CLOCK_RATE = 90_000  # RTP video clock
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
AUDIO_RATE = 48_000  # Opus runs at 48 kHz
AUDIO_PTIME_S = 0.020  # 20 ms per audio frame, as WebRTC sends them
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE)
SCROLL_PX_PER_FRAME = 4  # how far the bars move per frame: visible motion, not a blur

Plane = npt.NDArray[np.uint8]

# 100% colour bars in BT.601 limited range (Y, U, V): white, yellow, cyan, green, magenta,
# red, blue, black.
_BARS_YUV = (
    (235, 128, 128),
    (210, 16, 146),
    (170, 166, 16),
    (145, 54, 34),
    (106, 202, 222),
    (81, 90, 240),
    (41, 240, 110),
    (16, 128, 128),
)

# 3x5 bitmaps of the characters drawn in the frame.
_GLYPHS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    ":": ("000", "010", "000", "010", "000"),
    " ": ("000", "000", "000", "000", "000"),
}


def even(n: int) -> int:
    """4:2:0 chroma needs even dimensions."""
    return max(2, n - n % 2)


def _plane_array(plane: VideoPlane) -> Plane:
    """A writable view of a frame plane's visible pixels (rows may be padded)."""
    rows = np.frombuffer(memoryview(plane), dtype=np.uint8)
    rows = rows.reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]


class _Pacer:
    """Hands out frame times at a fixed rate, sleeping until each is due (as a camera would)."""

    def __init__(self, rate_hz: float) -> None:
        self.period_s = 1.0 / rate_hz
        self.index = 0
        self._start: float | None = None

    async def next(self) -> int:
        if self._start is None:
            self._start = time.monotonic()
        else:
            self.index += 1
            due = self._start + self.index * self.period_s
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        return self.index


class TestPatternTrack(MediaStreamTrack):
    """A live video source at `width`x`height` and `fps`, in yuv420p."""

    __test__ = False  # not a pytest class, whatever its name
    kind = "video"

    def __init__(self, width: int, height: int, fps: int, label: str = "") -> None:
        super().__init__()
        self.width, self.height, self.fps = even(width), even(height), fps
        self.label = label
        self._pacer = _Pacer(fps)
        w, h = self.width, self.height
        bar = np.minimum(np.arange(2 * w) * len(_BARS_YUV) // w % len(_BARS_YUV), 7)
        table = np.array(_BARS_YUV, dtype=np.uint8)
        # Twice as wide as the frame: each frame is a window sliding along it.
        self._y2: Plane = np.ascontiguousarray(np.broadcast_to(table[bar, 0], (h, 2 * w)))
        half = bar[::2]
        self._u2: Plane = np.ascontiguousarray(np.broadcast_to(table[half, 1], (h // 2, w)))
        self._v2: Plane = np.ascontiguousarray(np.broadcast_to(table[half, 2], (h // 2, w)))
        self._scale = max(2, h // 60)  # digit pixel size: about 1/12 of the height per digit
        self._tiles = self._glyph_tiles(self._scale)

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._pacer.next()
        if self.readyState != "live":
            raise MediaStreamError
        frame = self.render(index)
        frame.pts = round(index * VIDEO_CLOCK_RATE / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        return frame

    def render(self, index: int) -> VideoFrame:
        """Frame `index`, drawn straight into a new frame's planes (one copy per plane)."""
        frame = VideoFrame(self.width, self.height, "yuv420p")
        y, u, v = (_plane_array(plane) for plane in frame.planes)
        w = self.width
        off = (index * SCROLL_PX_PER_FRAME) % w
        off -= off % 2
        y[:] = self._y2[:, off : off + w]
        u[:] = self._u2[:, off // 2 : off // 2 + w // 2]
        v[:] = self._v2[:, off // 2 : off // 2 + w // 2]
        seconds = index // self.fps
        text = f"{index:06d} {seconds // 60:02d}:{seconds % 60:02d}"
        self._draw_text(y, u, v, text)
        return frame

    def _draw_text(self, y: Plane, u: Plane, v: Plane, text: str) -> None:
        s = self._scale
        x0 = y0 = 2 * s
        box_w, box_h = (len(text) * 4 + 1) * s, 7 * s
        box_w, box_h = min(box_w, y.shape[1] - x0), min(box_h, y.shape[0] - y0)
        y[y0 : y0 + box_h, x0 : x0 + box_w] = 16  # black box behind white digits
        u[y0 // 2 : (y0 + box_h) // 2, x0 // 2 : (x0 + box_w) // 2] = 128
        v[y0 // 2 : (y0 + box_h) // 2, x0 // 2 : (x0 + box_w) // 2] = 128
        cell = 4 * s
        for i, char in enumerate(text):
            left = x0 + i * cell
            width = min(cell, x0 + box_w - left)
            if width <= 0:
                break
            y[y0 : y0 + box_h, left : left + width] = self._tiles[char][:box_h, :width]

    @staticmethod
    def _glyph_tiles(s: int) -> dict[str, Plane]:
        """Each character's cell in luma (7x4 glyph pixels of s x s): a blank row above and
        below, a blank column on the left."""
        tiles = {}
        for char, rows in _GLYPHS.items():
            tile = np.full((7 * s, 4 * s), 16, dtype=np.uint8)
            for row, bits in enumerate(rows):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        tile[(row + 1) * s : (row + 2) * s, (col + 1) * s : (col + 2) * s] = 235
            tiles[char] = tile
        return tiles


class SolidColorTrack(MediaStreamTrack):
    """A still frame of one colour (tests compare rendered pixels against it)."""

    __test__ = False
    kind = "video"

    def __init__(self, width: int, height: int, fps: int, rgb: tuple[int, int, int]) -> None:
        super().__init__()
        self._pacer = _Pacer(fps)
        self.fps = fps
        image = np.empty((even(height), even(width), 3), dtype=np.uint8)
        image[:] = rgb
        self._image = image

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._pacer.next()
        frame = VideoFrame.from_ndarray(self._image, format="rgb24").reformat(format="yuv420p")
        frame.pts = round(index * VIDEO_CLOCK_RATE / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        return frame


class BeepTrack(MediaStreamTrack):
    """Mono 48 kHz audio: a short quiet 440 Hz beep each second, silence between."""

    kind = "audio"
    BEEP_S = 0.1
    AMPLITUDE = 0.1  # of full scale: audible in the demo, not unpleasant

    def __init__(self, *, silent: bool = False) -> None:
        super().__init__()
        self._pacer = _Pacer(1 / AUDIO_PTIME_S)
        self.samples = round(AUDIO_RATE * AUDIO_PTIME_S)
        self._silence = np.zeros((1, self.samples), dtype=np.int16)
        t = np.arange(round(AUDIO_RATE * self.BEEP_S)) / AUDIO_RATE
        peak = self.AMPLITUDE * 32767
        self._beep = (peak * np.sin(2 * math.pi * 440 * t)).astype(np.int16)
        self.silent = silent

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._pacer.next()
        start = index * self.samples
        pos = start % AUDIO_RATE  # sample position within the current second
        samples = self._silence
        if not self.silent and pos < len(self._beep):
            samples = self._silence.copy()
            chunk = self._beep[pos : pos + self.samples]
            samples[0, : len(chunk)] = chunk
        frame = AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = AUDIO_TIME_BASE
        return frame
