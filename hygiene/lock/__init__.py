"""The cabin door's entry lock: one driver interface, chosen by configuration."""

from hygiene.lock.base import DoorLock, LockState, output_level
from hygiene.lock.factory import make_lock

__all__ = ["DoorLock", "LockState", "make_lock", "output_level"]
