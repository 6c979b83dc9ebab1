"""Invariant 1 across kill -9: a real daemon process is killed with SIGKILL in each state
and restarted; it never comes back able to take a patient without a logged disinfection."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.lifecycle import State

from .conftest import WriteConfig
from .process import DaemonProcess
from .test_lifecycle import PATHS

PATIENT_TOUCHED = {
    State.CHECK_IN,
    State.WAITING,
    State.IN_CONSULTATION,
    State.CHECKOUT,
    State.AWAITING_DISINFECTION,
    State.CLEANING,
}


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
def test_sigkill_in_each_state(write_config: WriteConfig, tmp_path: Path, state: State) -> None:
    # A cabin that is never open stays closed; every other state needs an open cabin.
    never_open = state is State.CLOSED
    config = write_config(always_open=not never_open, weekly="" if never_open else "monday = []")
    daemon = DaemonProcess(config, tmp_path / "state")
    try:
        for target in [] if never_open else PATHS[state]:
            code, body = daemon.post("/test/transition", {"to": target.value})
            assert code == 200, body
        assert daemon.get("/api/status")["state"] == state.value
    finally:
        daemon.kill()

    restarted = DaemonProcess(config, tmp_path / "state")
    try:
        status = restarted.get("/api/status")
        if state in PATIENT_TOUCHED:
            assert status["locked"] is True
            assert status["state"] in ("awaiting_disinfection", "checkout")
            code, body = restarted.post("/test/transition", {"to": "check_in"})
            assert code == 409, "a new patient was let in without a logged disinfection"
            # The way out is the referent's: clean, log, then idle.
            path = ["awaiting_disinfection"] if status["state"] == "checkout" else []
            for target in [*path, "cleaning"]:
                assert restarted.post("/test/transition", {"to": target})[0] == 200
            assert restarted.post("/test/transition", {"to": "idle"})[0] == 409
            assert restarted.post("/test/disinfect", {})[0] == 200
            assert restarted.post("/test/transition", {"to": "idle"})[0] == 200
            assert restarted.get("/api/status")["locked"] is False
        elif state is State.OUT_OF_SERVICE:
            assert status["state"] == "out_of_service" and status["locked"] is True
        elif state is State.CLOSED:
            assert status["state"] == "closed" and status["locked"] is True
        else:
            assert status["state"] == "idle" and status["locked"] is False
    finally:
        restarted.kill()


def test_sigkill_during_a_second_session_after_disinfection(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """The disinfection of session 1 does not cover session 2."""
    config = write_config()
    daemon = DaemonProcess(config, tmp_path / "state")
    try:
        for target in ["check_in", "awaiting_disinfection", "cleaning"]:
            assert daemon.post("/test/transition", {"to": target})[0] == 200
        assert daemon.post("/test/disinfect", {})[0] == 200
        for target in ["idle", "check_in", "waiting"]:
            assert daemon.post("/test/transition", {"to": target})[0] == 200
    finally:
        daemon.kill()
    restarted = DaemonProcess(config, tmp_path / "state")
    try:
        status = restarted.get("/api/status")
        assert status["state"] == "awaiting_disinfection" and status["locked"] is True
        assert restarted.post("/test/transition", {"to": "check_in"})[0] == 409
    finally:
        restarted.kill()
