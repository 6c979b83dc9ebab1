"""Leaks the soak (bench/bench_soak.py) found in the call's video, pinned here.

The patient's screen converted each decoded frame with the frame's own libswscale
context (``frame.to_ndarray(format=..., width=..., height=...)``): PyAV gives every frame
its own context, and libswscale starts one thread per CPU in each. Those threads lived as
long as the frame did, and frames of past calls are freed by the cyclic garbage
collector, not at once: the daemon's thread count at idle wandered between 7 and 30
(two threads per frame still alive), and every frame drawn cost creating those threads."""

from __future__ import annotations

import os
import threading
import time

from av import VideoFrame

from video.render_window import VideoWindow

FRAMES = 20
WAIT_S = 10.0
LINGER_S = 2.0


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def native_threads() -> set[int]:
    """This process's threads that Python did not start (libswscale's are native): other
    tests' Python threads coming and going do not count."""
    python = {t.native_id for t in threading.enumerate()}
    return {int(tid) for tid in os.listdir("/proc/self/task")} - python


def frame(n: int) -> VideoFrame:
    made = VideoFrame(320, 240, "yuv420p")
    for plane in made.planes:
        plane.update(bytes([n % 256]) * plane.buffer_size)
    return made


def wait_rendered(window: VideoWindow, count: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while window.frames_rendered < count:
        assert time.monotonic() < deadline, f"{window.frames_rendered} of {count} drawn"
        time.sleep(0.005)


def test_frames_drawn_keep_no_threads_alive() -> None:
    """Frames still referenced after they were drawn (as past calls' frames are until
    the collector runs) hold no threads; the window's own go when it stops."""
    before = threads()
    native_before = native_threads()
    window = VideoWindow((320, 240), headless=True)
    window.start()
    shown: list[VideoFrame] = []
    try:
        for n in range(FRAMES):
            shown.append(frame(n))
            window.show_remote(shown[-1])
            window.show_self_view(shown[-1])
            wait_rendered(window, n + 1)
        during = threads()
    finally:
        window.request_stop()
        window.join(5.0)
    assert not window.is_alive()
    # The window thread and the scaling threads of its two pictures (one per CPU each),
    # not two per frame drawn.
    assert during - before <= 1 + 2 * len(os.sched_getaffinity(0)), (before, during)
    # A joined thread can still be listed in /proc for a moment after its exit (the
    # kernel releases it just after waking the joiner): a leak stays, that moment passes.
    deadline = time.monotonic() + LINGER_S
    while (left := native_threads() - native_before) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not left, f"threads left behind by a stopped window: {left}"
    assert shown  # every frame is still referenced here


def test_a_picture_whose_rows_are_padded_is_drawn() -> None:
    """318 px of BGRA is 1,272 bytes a row; libswscale pads rows to its alignment, so the
    array is not contiguous: drawn anyway, and the window thread goes on."""
    window = VideoWindow((318, 240), headless=True)
    window.start()
    try:
        for n in range(3):
            window.show_remote(frame(n))
            wait_rendered(window, n + 1)
        assert window.is_alive() and window.failed is None
    finally:
        window.request_stop()
        window.join(5.0)
