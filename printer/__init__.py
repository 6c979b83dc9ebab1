"""Prescriptions: model, PDF rendering, printing through CUPS, job tracking."""
