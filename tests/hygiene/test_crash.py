"""Invariant 1 under SIGKILL: a real daemon process is killed at every step of the referent
flow (driven through the hygiene HTTP API with the UI token), then restarted. It is never
free for a patient without the log entry, its lock is engaged until the entry commits, and
the chain verifies."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hygiene import log as hlog
from kiosk.ui_auth import HEADER, read_token
from tests.cabin_toml import base_toml
from tests.kiosk.process import DaemonProcess

from .conftest import REFERENT_PIN, hygiene_toml

STEPS = ["siege", "ecran"]  # the always-steps; the session used no instrument


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "cabin.toml"
    toml = hygiene_toml().replace("contact_time_s = 60", "contact_time_s = 0")
    config.write_text(base_toml(tmp_path / "state") + toml, encoding="utf-8")
    return config


def call(daemon: DaemonProcess, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    token = read_token(daemon.state_dir)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        daemon.url + path,
        data=data,
        method=method,
        headers={HEADER: token, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def ok(result: tuple[int, Any]) -> Any:
    code, body = result
    assert code == 200, body
    return body


def chain(db: Path) -> tuple[hlog.VerifyResult, list[hlog.LogEntry]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return hlog.verify(conn), hlog.entries(conn)
    finally:
        conn.close()


# Each point: how far the flow gets before the kill -9.
KILL_POINTS = ["awaiting", "logged_in", "one_step", "all_steps", "finished"]


def drive(daemon: DaemonProcess, until: str) -> None:
    for target in ("check_in", "awaiting_disinfection"):
        assert daemon.post("/test/transition", {"to": target})[0] == 200
    if until == "awaiting":
        return
    ok(call(daemon, "POST", "/api/hygiene/login", {"pin": REFERENT_PIN}))
    if until == "logged_in":
        return
    ok(call(daemon, "POST", f"/api/hygiene/steps/{STEPS[0]}/confirm"))
    if until == "one_step":
        return
    for step in STEPS[1:]:
        ok(call(daemon, "POST", f"/api/hygiene/steps/{step}/confirm"))
    if until == "all_steps":
        return
    assert ok(call(daemon, "POST", "/api/hygiene/finish"))["state"] == "idle"


def clean_through_the_api(daemon: DaemonProcess) -> None:
    ok(call(daemon, "POST", "/api/hygiene/login", {"pin": REFERENT_PIN}))
    for step in STEPS:
        ok(call(daemon, "POST", f"/api/hygiene/steps/{step}/confirm"))
    assert ok(call(daemon, "POST", "/api/hygiene/finish"))["state"] == "idle"


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_at_each_step(tmp_path: Path, point: str) -> None:
    config = write_config(tmp_path)
    state_dir = tmp_path / "state"
    daemon = DaemonProcess(config, state_dir)
    try:
        drive(daemon, point)
        status = daemon.get("/api/status")
        assert status["hygiene"]["lock"] == ("released" if point == "finished" else "engaged")
    finally:
        daemon.kill()

    restarted = DaemonProcess(config, state_dir)
    try:
        status = restarted.get("/api/status")
        result, entries = chain(state_dir / "cabin.sqlite3")
        assert result.ok, result
        if point == "finished":
            assert status["state"] == "idle" and status["locked"] is False
            assert status["hygiene"]["lock"] == "released"
            assert [e.content["outcome"] for e in entries] == ["disinfected"]
            return
        # Not logged: locked, the referent's progress starts over, no way to a patient.
        assert entries == []
        assert status["state"] == "awaiting_disinfection" and status["locked"] is True
        assert status["hygiene"]["lock"] == "engaged"
        assert status["hygiene"]["referent_active"] is False
        for target in ("check_in", "idle", "closed"):
            code, body = restarted.post("/test/transition", {"to": target})
            assert code == 409, f"{target} allowed without a logged disinfection: {body}"
        assert call(restarted, "POST", "/api/hygiene/finish")[0] == 409
        clean_through_the_api(restarted)
        status = restarted.get("/api/status")
        assert status["state"] == "idle" and status["hygiene"]["lock"] == "released"
        result, entries = chain(state_dir / "cabin.sqlite3")
        assert result.ok and [e.content["outcome"] for e in entries] == ["disinfected"]
    finally:
        restarted.kill()


def test_sigkill_between_the_commit_and_idle(tmp_path: Path) -> None:
    """The entry (with the session's release) committed, then the process died before the
    transition to idle: after restart the cabin finishes the job and is free."""
    config = write_config(tmp_path)
    state_dir = tmp_path / "state"
    db = state_dir / "cabin.sqlite3"
    daemon = DaemonProcess(config, state_dir)
    try:
        drive(daemon, "all_steps")
        session = daemon.get("/api/status")
    finally:
        daemon.kill()
    conn = sqlite3.connect(db, isolation_level=None)
    (session_id,) = conn.execute("SELECT session_id FROM lifecycle").fetchone()
    now = datetime.now(UTC)
    hlog.append(
        conn,
        hlog.EntryDraft(
            cabin_id="test-01",
            session_id=session_id,
            referent_id="amelie",
            referent_name="Amélie Martin",
            outcome="disinfected",
            started_at=now,
            ended_at=now,
            steps=[],
            instruments_cleaned=[],
            consumables_replaced=[],
            anomalies=[],
        ),
    )
    conn.close()
    assert session["state"] == "cleaning"
    restarted = DaemonProcess(config, state_dir)
    try:
        status = restarted.get("/api/status")
        assert status["state"] == "idle" and status["locked"] is False
        assert status["hygiene"]["lock"] == "released"
        assert chain(db)[0].ok
    finally:
        restarted.kill()
