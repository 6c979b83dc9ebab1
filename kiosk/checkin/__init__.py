"""The daemon side of the patient's touchscreen: check-in, chat, leaving, events stream."""

from kiosk.checkin.component import CheckinComponent, checkin_factory

__all__ = ["CheckinComponent", "checkin_factory"]
