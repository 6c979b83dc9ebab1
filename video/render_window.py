"""The video window on the patient's screen: pygame-ce (SDL2) in a thread of its own.

The thread owns pygame entirely (init, drawing, events, quit); the event loop only hands it
the newest decoded frames. Colour conversion and scaling run in libswscale (which releases
the GIL), so the loop is never held up by drawing.

Layout: the doctor's picture at its real pixel size, centred; scaled down (aspect kept)
only when the window is smaller than the picture. The patient's self-view sits small in
the bottom-right corner. Before the doctor's first frame: a dark screen with a short
French message. SDL picks the display: Wayland under the kiosk compositor (the window's
app id is `kiosk-video`, which the compositor's layout places beside the touchscreen UI),
`dummy` (a memory surface) when headless (tests, headless demo).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import time
from typing import Any

import numpy as np
import numpy.typing as npt
from av import VideoFrame
from av.video.reformatter import VideoReformatter

from video.media import use_session_runtime_dir

log = logging.getLogger(__name__)

APP_ID = "kiosk-video"
IDLE_WAKE_S = 0.1  # with no new frame, still pump window events this often
SELF_VIEW_FRACTION = 0.2  # self-view width, as a fraction of the window width
MARGIN_PX = 16
WAITING_TEXT = "Le médecin va apparaître ici"
BACKGROUND = (12, 14, 20)

Pixels = npt.NDArray[np.uint8]


def preload() -> None:
    """Import pygame with the environment SDL needs here. The call component runs it at
    start: the import holds the GIL for ~30 ms, which would otherwise compete with the
    call's setup when the doctor joins; the window thread runs it again (a no-op then)."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    # SDL would otherwise take SIGINT/SIGTERM for itself (as a window "quit"): the
    # daemon's own handlers must keep them, or systemd could not stop it.
    os.environ["SDL_NO_SIGNAL_HANDLERS"] = "1"
    import pygame  # noqa: F401 - the import is the point


def fit(src: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """Real size when it fits in box, else the largest even size with the same aspect."""
    w, h = src
    bw, bh = box
    if w <= bw and h <= bh:
        return w, h
    scale = min(bw / w, bh / h)
    return max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)


def self_view_size(frame: VideoFrame, screen: tuple[int, int]) -> tuple[int, int]:
    """Small in the corner, aspect kept."""
    box = (max(2, int(screen[0] * SELF_VIEW_FRACTION)), max(2, int(screen[1] * SELF_VIEW_FRACTION)))
    scale = min(box[0] / frame.width, box[1] / frame.height)
    return max(2, int(frame.width * scale) // 2 * 2), max(2, int(frame.height * scale) // 2 * 2)


class _FrameSurface:
    """A decoded frame converted once to a pygame surface (scaled in libswscale, straight
    to the display's 32-bit BGRX layout, so blitting is a plain copy).

    One libswscale context for the surface's whole life, not the frame's own: PyAV gives
    each frame a context of its own, libswscale starts one thread per CPU in each, and
    they lived as long as the frame (past calls' frames until the garbage collector ran)."""

    def __init__(self, pygame: Any) -> None:
        self._pygame = pygame
        self._scaler = VideoReformatter()
        self.frame: VideoFrame | None = None
        self.surface: Any = None
        self._pixels: npt.NDArray[Any] | None = None  # the surface's buffer: keep it alive
        self._box = (0, 0)

    def update(self, frame: VideoFrame, size: tuple[int, int]) -> bool:
        """Convert `frame` to fit in `size` if it is new or the size changed; True if so."""
        if frame is self.frame and size == self._box:
            return False
        w, h = fit((frame.width, frame.height), size)
        self._box = size
        scaled = self._scaler.reformat(frame, format="bgra", width=w, height=h).to_ndarray()
        # Rows padded to libswscale's alignment make a strided array; pygame needs it whole.
        self._pixels = np.ascontiguousarray(scaled)
        self.surface = self._pygame.image.frombuffer(self._pixels, (w, h), "BGRA")
        self.frame = frame
        return True


class VideoWindow(threading.Thread):
    """Draws the newest remote frame and self-view frame; `frames_rendered` counts the
    remote frames that reached the display surface."""

    def __init__(
        self, size: tuple[int, int], *, headless: bool, follow_frame_size: bool = False
    ) -> None:
        super().__init__(name="kiosk-video-window", daemon=True)
        self.size = size
        self.headless = headless
        self.follow_frame_size = follow_frame_size
        self.frames_rendered = 0
        self.cpu_s = 0.0  # CPU time of the window thread so far (drawing, conversions)
        self.failed: str | None = None  # why no window could be opened
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._remote: VideoFrame | None = None
        self._self_view: VideoFrame | None = None
        self._captures: list[concurrent.futures.Future[Pixels]] = []

    # Called from the event loop thread.
    def show_remote(self, frame: VideoFrame) -> None:
        with self._lock:
            self._remote = frame
        self._wake.set()

    def show_self_view(self, frame: VideoFrame) -> None:
        with self._lock:
            self._self_view = frame
            doctor_shown = self._remote is not None
        # Once the doctor's frames flow, the self-view is redrawn with them: one redraw
        # per doctor frame instead of two.
        if not doctor_shown:
            self._wake.set()

    def capture(self) -> concurrent.futures.Future[Pixels]:
        """The display surface's pixels (height, width, RGB) after the next redraw."""
        future: concurrent.futures.Future[Pixels] = concurrent.futures.Future()
        if self.failed is not None or not self.is_alive():
            future.set_exception(RuntimeError(f"no video window: {self.failed or 'stopped'}"))
            return future
        with self._lock:
            self._captures.append(future)
        self._wake.set()
        return future

    def request_stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    # The window thread.
    def run(self) -> None:
        preload()
        driver_before = os.environ.get("SDL_VIDEODRIVER")
        if self.headless:
            # "dummy": a plain memory surface, nothing presented (SDL's "offscreen" driver
            # spends ~5 ms per 720p flip presenting to nobody). Only for this init.
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        else:
            use_session_runtime_dir()
        os.environ.setdefault("SDL_VIDEO_WAYLAND_WMCLASS", APP_ID)
        os.environ.setdefault("SDL_APP_ID", APP_ID)
        os.environ.setdefault("SDL_VIDEO_X11_WMCLASS", APP_ID)
        import pygame

        try:
            pygame.display.init()
            pygame.font.init()
            flags = 0 if self.headless else pygame.RESIZABLE
            screen = pygame.display.set_mode(self.size, flags)
            pygame.display.set_caption("Consultation")
        except pygame.error as exc:
            self._restore_driver(driver_before)
            self.failed = str(exc)
            log.warning("no video window (%s): the doctor's video is received, not shown", exc)
            self._fail_captures()
            return
        self._restore_driver(driver_before)
        try:
            self._loop(pygame, screen)
        finally:
            self._fail_captures()
            pygame.display.quit()

    def _loop(self, pygame: Any, screen: Any) -> None:
        font = pygame.font.Font(None, max(24, self.size[1] // 18))
        remote_cache = _FrameSurface(pygame)
        self_cache = _FrameSurface(pygame)
        dirty = True
        while not self._stopping.is_set():
            self._wake.wait(IDLE_WAKE_S)
            self._wake.clear()
            for event in pygame.event.get():
                if event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
                    screen = pygame.display.get_surface()
                    dirty = True
            with self._lock:
                remote, own = self._remote, self._self_view
                captures, self._captures = self._captures, []
            if self.follow_frame_size and remote is not None:
                size = (remote.width, remote.height)
                if screen.get_size() != size:
                    # Headless there is no compositor: the surface takes the picture's size.
                    screen = pygame.display.set_mode(size)
                    dirty = True
            sw, sh = screen.get_size()
            new_remote = remote is not None and remote_cache.update(remote, (sw, sh))
            new_self = own is not None and self_cache.update(own, self_view_size(own, (sw, sh)))
            if new_remote or new_self or dirty:
                self._draw(pygame, screen, font, remote_cache, self_cache)
                pygame.display.flip()
                if new_remote:
                    self.frames_rendered += 1
                dirty = False
            self.cpu_s = time.thread_time()
            if captures:
                pixels = np.ascontiguousarray(pygame.surfarray.array3d(screen).swapaxes(0, 1))
                for future in captures:
                    future.set_result(pixels)

    @staticmethod
    def _draw(
        pygame: Any, screen: Any, font: Any, remote: _FrameSurface, own: _FrameSurface
    ) -> None:
        sw, sh = screen.get_size()
        screen.fill(BACKGROUND)
        if remote.surface is None:
            text = font.render(WAITING_TEXT, True, (230, 230, 230))
            screen.blit(text, text.get_rect(center=(sw // 2, sh // 2)))
        else:
            w, h = remote.surface.get_size()
            screen.blit(remote.surface, ((sw - w) // 2, (sh - h) // 2))
        if own.surface is not None:
            w, h = own.surface.get_size()
            x, y = sw - w - MARGIN_PX, sh - h - MARGIN_PX
            pygame.draw.rect(screen, (240, 240, 240), (x - 2, y - 2, w + 4, h + 4))
            screen.blit(own.surface, (x, y))

    def _restore_driver(self, before: str | None) -> None:
        if not self.headless:
            return
        if before is None:
            os.environ.pop("SDL_VIDEODRIVER", None)
        else:
            os.environ["SDL_VIDEODRIVER"] = before

    def _fail_captures(self) -> None:
        with self._lock:
            captures, self._captures = self._captures, []
        for future in captures:
            if not future.done():
                future.set_exception(RuntimeError(f"no video window: {self.failed or 'stopped'}"))
