"""The cabin's half of the consultation record: its parts while the session runs
(parts.py), the handover to the hub through the outbox (handover.py), the patient's
printed copy (copy.py) and the component that ties them to the session (component.py)."""
