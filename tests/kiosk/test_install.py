"""The install script of the two commands: what it does without root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_without_root_it_prints_the_exact_apt_line() -> None:
    # pytest's tmp_path is private to root; the unprivileged run must read the list.
    folder = Path(tempfile.mkdtemp(prefix="kiosk-deps-"))
    folder.chmod(0o755)
    packages = folder / "packages.txt"
    packages.write_text(
        "# comment\nbash\nkiosk-no-such-package-a   # why\n\nkiosk-no-such-package-b\n"
    )
    packages.chmod(0o644)
    result = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            str(REPO / "scripts" / "system-deps.sh"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KIOSK_DEBIAN_PACKAGES": str(packages)},
    )
    shutil.rmtree(folder)
    assert result.returncode == 1, result.stderr
    assert (
        "sudo apt-get install -y kiosk-no-such-package-a kiosk-no-such-package-b" in result.stderr
    )


def test_when_everything_is_installed_it_does_nothing(tmp_path: Path) -> None:
    packages = tmp_path / "packages.txt"
    packages.write_text("bash\ncoreutils\n")
    result = subprocess.run(
        [str(REPO / "scripts" / "system-deps.sh")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KIOSK_DEBIAN_PACKAGES": str(packages)},
    )
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
