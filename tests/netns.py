"""A test that needs a network of its own (cut the loopback, run coturn on fixed ports)
re-runs its inner test in a new network namespace (`unshare -n`) that has only `lo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.kiosk.process import REPO

INNER_TIMEOUT_S = 240


def run_inner_in_own_netns(
    test_file: str, inner: str, env_flag: str, tools: tuple[str, ...]
) -> None:
    """Runs ``test_file::inner`` under ``unshare -n`` with ``env_flag=1`` set (the inner
    test's skip condition) and fails unless it passed."""
    for tool in ("unshare", "ip", *tools):
        if shutil.which(tool) is None:
            raise AssertionError(f"{tool} is missing (scripts/debian-packages.txt installs it)")
    here = Path(test_file).resolve().relative_to(REPO)
    script = (
        "ip link set lo up && exec "
        f"{sys.executable} -m pytest -q -p no:cacheprovider -x {here}::{inner}"
    )
    result = subprocess.run(
        ["unshare", "-n", "--", "sh", "-c", script],
        cwd=REPO,
        env={**os.environ, env_flag: "1"},
        capture_output=True,
        text=True,
        timeout=INNER_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    assert "1 passed" in result.stdout
