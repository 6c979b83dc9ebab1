"""Measurement instruments: decoders, transports, simulators, supervisor."""
