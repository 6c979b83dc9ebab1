"""`kiosk demo`: a hub and three cabins on this machine (hub/demo/fleet.py)."""
