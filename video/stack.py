"""What the cabin changes in aiortc for its calls, in one place: the call component runs
it at start (and undoes it at stop), bench/bench_call.py runs the same.

- video/codecs.py: the cabin's VP8 encoder settings and FFmpeg's VP8 decoder;
- video/jitter.py: the doctor's frames decoded at their last packet, not one frame later;
- video/audio_level.py: the microphone packets' audio level in numpy;
- pygame imported before the first call (video/render_window.py).
"""

from __future__ import annotations

import asyncio

from video import audio_level, codecs, jitter
from video.config import CallSettings
from video.render_window import preload as preload_video_window


async def set_up(settings: CallSettings) -> None:
    codecs.install(settings.video_encoder)
    jitter.HOOK.install()
    audio_level.HOOK.install()
    await asyncio.to_thread(preload_video_window)


def tear_down() -> None:
    codecs.uninstall()
    jitter.HOOK.uninstall()
    audio_level.HOOK.uninstall()
