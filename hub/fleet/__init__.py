"""The technicians' fleet dashboard and its alerts."""
