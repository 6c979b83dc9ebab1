"""Bluetooth LE instruments: health profiles, stored-record download, the bleak link."""
