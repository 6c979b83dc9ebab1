"""Starting and stopping real daemon processes in tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
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
        # Output to a file, not a pipe: a pipe nobody reads fills up (64 KiB) and then
        # blocks the daemon's logging, hence its event loop, in a long test.
        state_dir.parent.mkdir(parents=True, exist_ok=True)
        fd, log = tempfile.mkstemp(dir=state_dir.parent, prefix="daemon-", suffix=".log")
        self.log = Path(log)
        try:
            self.proc = subprocess.Popen(
                args,
                cwd=REPO,
                env={**os.environ, **(env or {})},
                stdout=fd,
                stderr=subprocess.STDOUT,
            )
        finally:
            os.close(fd)  # the child has its own copy
        try:
            self.url: str = self._wait_started(runtime)
        except BaseException:
            # The caller gets no object to stop: never leave the process (and its pipe)
            # behind, running after the test and collected later, inside another test.
            self.kill()
            raise

    def _wait_started(self, runtime: Path) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not runtime.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.output()}")
            if time.monotonic() > deadline:
                raise TimeoutError("daemon did not start")
            time.sleep(0.02)
        url: str = json.loads(runtime.read_text())["url"]
        return url

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

    def output(self) -> str:
        """What the daemon printed (its JSON log lines) so far."""
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 10.0) -> tuple[int, float, str]:
        """SIGTERM; (exit code, seconds it took, output). Killed if it outlives ``timeout``
        (subprocess.TimeoutExpired is raised then)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return code, time.monotonic() - start, self.output()
