"""Optional spoken guidance through espeak-ng. Off by default; never blocks the screen:
each new sentence replaces the one being spoken."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil

log = logging.getLogger(__name__)

VOICES = {"fr": "fr", "en": "en"}


class Speaker:
    def __init__(self, *, enabled: bool = False, program: str = "espeak-ng") -> None:
        self.enabled = enabled
        self.program = shutil.which(program)
        self._process: asyncio.subprocess.Process | None = None

    @property
    def available(self) -> bool:
        return self.program is not None

    async def say(self, text: str, language: str) -> None:
        """Starts speaking and returns at once. Never logs the text (it may be personal)."""
        if not self.enabled or self.program is None or not text:
            return
        await self.stop()
        try:
            self._process = await asyncio.create_subprocess_exec(
                self.program,
                "-v",
                VOICES.get(language, "fr"),
                "-s",
                "140",  # slower than the default 175 words/min: easier to follow
                "--",
                text,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as exc:
            log.warning("spoken guidance unavailable: %s", exc.strerror)
            self.enabled = False

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
