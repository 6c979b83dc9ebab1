"""Starting and stopping real daemon processes in tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# A daemon starts in well under a second here; allow for a loaded CI machine.
START_TIMEOUT_S = 30.0


class DaemonProcess:
    def __init__(
        self,
        config: Path,
        state_dir: Path,
        *,
        driven: bool = True,
        env: dict[str, str] | None = None,
        module: str | None = None,
    ) -> None:
        """The real daemon (`kiosk run`), or one with test routes: ``driven`` (lifecycle
        driver) or ``module`` (a test module run as `python -m module CONFIG`)."""
        self.config = config
        self.state_dir = state_dir
        runtime = state_dir / "runtime.json"
        runtime.unlink(missing_ok=True)
        if module is None and driven:
            module = "tests.kiosk.driven_daemon"
        if module is None:
            args = [sys.executable, "-m", "kiosk.cli", "run", "--config", str(config)]
        else:
            args = [sys.executable, "-m", module, str(config)]
        self.proc = subprocess.Popen(
            args,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not runtime.exists():
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode() if self.proc.stdout else ""
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {out}")
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError("daemon did not start")
            time.sleep(0.02)
        self.url: str = json.loads(runtime.read_text())["url"]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as resp:
            return json.loads(resp.read())

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close()

    def terminate(self, timeout: float = 10.0) -> tuple[int, float, str]:
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        elapsed = time.monotonic() - start
        out = self.proc.stdout.read().decode() if self.proc.stdout else ""
        self._close()
        return code, elapsed, out

    def _close(self) -> None:
        if self.proc.stdout:
            self.proc.stdout.close()
