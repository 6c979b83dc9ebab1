"""Disinfection protocol, referent authentication, door lock, tamper-evident log."""
