"""The screen and sound deployment files: the kiosk.service drop-in, the sway layout (and
the doctor's window really placed by it), the PipeWire echo-cancel configuration, each
checked by the real tool that will read it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from video.config import CallSettings
from video.media_synthetic import SolidColorTrack
from video.render import RemoteMediaSink

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
NOBODY = 65534  # sway refuses to run as root
BOUND_S = 10.0


def _unit_copy(tmp_path: Path) -> Path:
    text = (SYSTEMD / "kiosk.service").read_text()
    unit = tmp_path / "kiosk.service"
    unit.write_text(text.replace("/opt/kiosk/.venv/bin/", str(REPO / ".venv" / "bin") + "/"))
    shutil.copytree(SYSTEMD / "kiosk.service.d", tmp_path / "kiosk.service.d")
    return unit


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd not installed")
def test_daemon_drop_in_verifies_and_keeps_the_hardening(tmp_path: Path) -> None:
    unit = _unit_copy(tmp_path)
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stderr
    assert verify.stderr.strip() == "", verify.stderr  # a bad drop-in line only warns
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    exposure = security.stdout.split("Overall exposure level for kiosk.service:")[1].split()[0]
    assert float(exposure) <= 2.0, security.stdout[-500:]


def test_drop_in_is_really_read(tmp_path: Path) -> None:
    # The check above must be able to fail: a broken drop-in line shows on stderr.
    unit = _unit_copy(tmp_path)
    conf = tmp_path / "kiosk.service.d" / "screen.conf"
    conf.write_text(conf.read_text().replace("BindReadOnlyPaths=-/run/user", "BindReadOnlyPaths=x"))
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert "BindReadOnlyPaths" in verify.stderr


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: its parents are private to root, and sway runs as nobody.
    path = Path(tempfile.mkdtemp(prefix="kiosk-sway-"))
    os.chown(path, NOBODY, NOBODY)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _as_nobody(runtime_dir: Path, *argv: str) -> list[str]:
    env = {
        "XDG_RUNTIME_DIR": str(runtime_dir),
        "HOME": str(runtime_dir),
        "WLR_BACKENDS": "headless",
        "WLR_RENDERER": "pixman",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "PATH": "/usr/bin:/bin",
    }
    return [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        "env",
        "-i",
        *(f"{k}={v}" for k, v in env.items()),
        *argv,
    ]


@pytest.mark.skipif(shutil.which("sway") is None, reason="sway not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run sway as another user")
def test_sway_layout_config_is_valid(runtime_dir: Path) -> None:
    config = runtime_dir / "sway.conf"
    shutil.copy(SYSTEMD / "screen" / "sway.conf", config)
    os.chown(config, NOBODY, NOBODY)
    ok = subprocess.run(
        _as_nobody(runtime_dir, "sway", "--validate", "--config", str(config)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    config.write_text(config.read_text() + "\nno_such_command 1\n")
    bad = subprocess.run(
        _as_nobody(runtime_dir, "sway", "--validate", "--config", str(config)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0


@pytest.fixture
def pipewire(tmp_path: Path) -> Iterator[dict[str, str]]:
    runtime = tmp_path / "pw-run"
    runtime.mkdir(mode=0o700)
    conf = tmp_path / "pw-conf"
    (conf / "pipewire.conf.d").mkdir(parents=True)
    shutil.copy("/usr/share/pipewire/pipewire.conf", conf)
    shutil.copy(SYSTEMD / "audio" / "50-kiosk-echo-cancel.conf", conf / "pipewire.conf.d")
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_RUNTIME_DIR": str(runtime),
        "PIPEWIRE_CONFIG_DIR": str(conf),
        "DBUS_SESSION_BUS_ADDRESS": "disabled:",
    }
    proc = subprocess.Popen(
        ["pipewire"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=BOUND_S)


@pytest.mark.skipif(shutil.which("pipewire") is None, reason="pipewire not installed")
def test_echo_cancel_nodes_come_up(pipewire: dict[str, str]) -> None:
    wanted = {"kiosk.echo-cancel.source", "kiosk.echo-cancel.sink"}
    deadline = time.monotonic() + BOUND_S
    names: set[str] = set()
    while time.monotonic() < deadline and not wanted <= names:
        client_env = {k: v for k, v in pipewire.items() if k != "PIPEWIRE_CONFIG_DIR"}
        listing = subprocess.run(
            ["pw-cli", "ls", "Node"], env=client_env, capture_output=True, text=True, check=False
        ).stdout
        names = {
            line.split("=", 1)[1].strip().strip('"')
            for line in listing.splitlines()
            if "node.name" in line
        }
        time.sleep(0.1)
    assert wanted <= names, names


@pytest.fixture
def sway_screen(runtime_dir: Path) -> Iterator[tuple[Path, Path]]:
    """The cabin's sway layout on a headless 1920x1080 output, as nobody; foot running a
    placeholder stands in for the touchscreen UI. Yields (runtime dir, IPC socket)."""
    text = (SYSTEMD / "screen" / "sway.conf").read_text()
    lines = [
        "exec /usr/bin/foot --app-id=kiosk-ui sleep 600" if "kiosk ui" in ln else ln
        for ln in text.splitlines()
    ]
    assert any("foot --app-id=kiosk-ui sleep" in ln for ln in lines)
    config = runtime_dir / "sway.conf"
    config.write_text("\n".join([*lines, "output HEADLESS-1 resolution 1920x1080", ""]))
    proc = subprocess.Popen(
        _as_nobody(runtime_dir, "sway", "--config", str(config)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + BOUND_S
        while not (runtime_dir / "kiosk-wayland").exists() or not list(
            runtime_dir.glob("sway-ipc.*.sock")
        ):
            assert proc.poll() is None, "sway exited"
            assert time.monotonic() < deadline, "sway did not come up"
            time.sleep(0.05)
        yield runtime_dir, next(runtime_dir.glob("sway-ipc.*.sock"))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=BOUND_S)


def _windows(runtime_dir: Path, sock: Path) -> dict[str, dict[str, int]]:
    tree = json.loads(
        subprocess.run(
            _as_nobody(runtime_dir, "env", f"SWAYSOCK={sock}", "swaymsg", "-t", "get_tree"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    found: dict[str, dict[str, int]] = {}

    def walk(node: dict[str, Any]) -> None:
        if node.get("app_id"):
            found[node["app_id"]] = node["rect"]
        for child in node.get("nodes", []) + node.get("floating_nodes", []):
            walk(child)

    walk(tree)
    return found


@pytest.mark.skipif(shutil.which("sway") is None or shutil.which("foot") is None, reason="no sway")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run sway as another user")
async def test_doctor_window_takes_its_place_beside_the_ui(
    sway_screen: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime_dir, sock = sway_screen
    # What kiosk.service.d/screen.conf gives the daemon.
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
    monkeypatch.setenv("WAYLAND_DISPLAY", "kiosk-wayland")
    monkeypatch.setenv("SDL_VIDEODRIVER", "wayland")
    sink = RemoteMediaSink(CallSettings(), headless=False)
    sink.add_track(SolidColorTrack(640, 480, 30, (200, 40, 90)))
    try:
        deadline = time.monotonic() + BOUND_S
        windows: dict[str, dict[str, int]] = {}
        while not {"kiosk-video", "kiosk-ui"} <= windows.keys() or sink.frames_rendered < 3:
            assert time.monotonic() < deadline, (windows, sink.summary())
            await asyncio.sleep(0.1)
            windows = await asyncio.to_thread(_windows, runtime_dir, sock)
        pixels = await sink.capture()
    finally:
        await sink.stop()
    video, ui = windows["kiosk-video"], windows["kiosk-ui"]
    assert (video["x"], video["width"], video["height"]) == (0, 768, 1080)  # left 40 %
    assert (ui["x"], ui["width"]) == (768, 1152)
    # The window's surface follows the tile; the 640x480 doctor sits in it at real size.
    assert pixels.shape == (1080, 768, 3)
    assert tuple(int(c) for c in pixels[540, 384]) == pytest.approx((200, 40, 90), abs=12)
    assert tuple(int(c) for c in pixels[540, 10]) != pytest.approx((200, 40, 90), abs=12)
