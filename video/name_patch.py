"""One name inside aiortc or aioice replaced by the cabin's own: the hooks of
video/codecs.py, video/jitter.py, video/audio_level.py and video/loopback.py.

Those libraries look these names up at call time (a module global), so replacing the name
is how the cabin changes their behaviour; none of them is part of their API, which is why
each hook has a test with a real call that checks it is reached."""

from __future__ import annotations

from types import ModuleType
from typing import Any


class NamePatch:
    """`module.name` → `replacement` while installed; process-wide, idempotent."""

    def __init__(self, module: ModuleType, name: str, replacement: Any) -> None:
        self.module = module
        self.name = name
        self.replacement = replacement
        self.original: Any = getattr(module, name)

    @property
    def installed(self) -> bool:
        return getattr(self.module, self.name) is self.replacement

    def install(self) -> None:
        if not self.installed:
            self.original = getattr(self.module, self.name)  # what was there just before
            setattr(self.module, self.name, self.replacement)

    def uninstall(self) -> None:
        if self.installed:
            setattr(self.module, self.name, self.original)
