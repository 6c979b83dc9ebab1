"""Real CUPS for the printer tests.

- The machine's cupsd with its cups-pdf queue "PDF" (scripts/setup-cups.sh).
- A private cupsd (same binary, own config, spool and socket in a temp folder) with its
  own cups-pdf queue, for tests that disable the queue or stop the scheduler: those never
  touch the machine's CUPS. It needs root (the cups-pdf backend runs as root).

cups-pdf writes each printed job as a PDF in the folder set by `Out` in
/etc/cups/cups-pdf.conf (${HOME}/PDF: /root/PDF for root's jobs)."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

CUPS_PDF_CONF = Path("/etc/cups/cups-pdf.conf")
CUPSD = "/usr/sbin/cupsd"
# cupsd listens within a second here; allow for a loaded machine.
CUPSD_START_TIMEOUT_S = 20.0


def cups_pdf_output_dir() -> Path:
    home = pwd.getpwuid(os.getuid()).pw_dir
    out = "${HOME}/PDF"
    if CUPS_PDF_CONF.exists():
        for line in CUPS_PDF_CONF.read_text().splitlines():
            m = re.match(r"\s*Out\s+(\S+)", line)
            if m:
                out = m.group(1)
    user = pwd.getpwuid(os.getuid()).pw_name
    return Path(out.replace("${HOME}", home).replace("${USER}", user))


def pdf_text(path: Path) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=False
    )
    return result.stdout


def printed_copies(number: str, since: float) -> list[Path]:
    """cups-pdf output files written after ``since`` whose text holds ``number``."""
    out = cups_pdf_output_dir()
    if not out.is_dir():
        return []
    found = []
    for path in sorted(out.glob("*.pdf")):
        try:
            if path.stat().st_mtime < since - 1:
                continue
        except FileNotFoundError:
            continue
        if number in pdf_text(path):
            found.append(path)
    return found


def wait_for_copies(number: str, since: float, count: int, timeout: float) -> list[Path]:
    deadline = time.monotonic() + timeout
    while True:
        found = printed_copies(number, since)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def remove_copies(number: str, since: float) -> None:
    for path in printed_copies(number, since):
        path.unlink(missing_ok=True)


FAKE_BACKEND = """#!/bin/sh
# A printer that runs out of paper on demand: the test writes "media-empty" or "ok" to
# the state file. Reasons reach CUPS the way real backends report them (STATE: lines).
if [ $# -eq 0 ]; then echo 'direct fakeprinter "Unknown" "Fake printer"'; exit 0; fi
state=$(cat {root}/fake-state)
case "$state" in
    ok) ;;
    *-report|*-warning) echo "STATE: +$state" >&2 ;;  # prints anyway
    *)
        echo "STATE: +$state-error" >&2
        echo "ERROR: $state" >&2
        exit 4 ;;  # CUPS_BACKEND_STOP: the queue stops, the job waits
esac
echo "STATE: -media-empty-error,media-jam-error,door-open-error" >&2
cat "${{6:-/dev/stdin}}" > {root}/out/job-$1.ps
exit 0
"""


class PrivateCups:
    """A cupsd of our own, started and stopped by the test (by its pid only).

    With ``fake_printer``, a second queue FAKE prints through a shell backend whose
    paper the test can take away (set_fake_state("media-empty")) and give back."""

    def __init__(self, root: Path, *, fake_printer: bool = False) -> None:
        self.root = root
        self.fake_printer = fake_printer
        self.socket = root / "run" / "cups.sock"
        self.proc: subprocess.Popen[bytes] | None = None
        for sub in ("etc", "spool", "cache", "state", "log", "run"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "tmp").mkdir(mode=0o1777, exist_ok=True)
        os.chmod(root / "tmp", 0o1777)
        (root / "etc" / "cupsd.conf").write_text(
            f"Listen {self.socket}\nLogLevel warn\nWebInterface No\nBrowsing No\n"
            "DefaultAuthType None\n<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  JobPrivateAccess all\n  JobPrivateValues none\n"
            "  SubscriptionPrivateAccess all\n  SubscriptionPrivateValues none\n"
            "  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
        )
        files_conf = (
            f"ServerRoot {root}/etc\nRequestRoot {root}/spool\nCacheDir {root}/cache\n"
            f"StateDir {root}/state\nTempDir {root}/tmp\nErrorLog {root}/log/error_log\n"
            f"AccessLog {root}/log/access_log\nPageLog {root}/log/page_log\nSystemGroup root\n"
        )
        if fake_printer:
            files_conf += f"ServerBin {self._fake_server_bin()}\n"
        (root / "etc" / "cups-files.conf").write_text(files_conf)
        if CUPS_PDF_CONF.exists():
            shutil.copy(CUPS_PDF_CONF, root / "etc" / "cups-pdf.conf")
        self._queue_created = False

    def _fake_server_bin(self) -> Path:
        """CUPS's programs (filters, drivers...) plus the fake backend."""
        system = Path("/usr/lib/cups")
        lib = self.root / "lib"
        (lib / "backend").mkdir(parents=True, exist_ok=True)
        for sub in system.iterdir():
            if sub.name != "backend":
                (lib / sub.name).symlink_to(sub)
        for backend in (system / "backend").iterdir():
            (lib / "backend" / backend.name).symlink_to(backend.resolve())
        script = lib / "backend" / "fakeprinter"
        script.write_text(FAKE_BACKEND.format(root=self.root))
        script.chmod(0o700)  # root-only: CUPS runs it as root
        (self.root / "out").mkdir(exist_ok=True)
        self.set_fake_state("ok")
        return lib

    def set_fake_state(self, state: str) -> None:
        (self.root / "fake-state").write_text(state)

    def fake_outputs(self) -> list[Path]:
        return sorted((self.root / "out").glob("job-*.ps"))

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [args[0], "-h", str(self.socket), *args[1:]],
            capture_output=True,
            text=True,
            check=False,
        )

    def running(self) -> bool:
        return "is running" in self._run("lpstat", "-r").stdout

    def start(self) -> None:
        assert self.proc is None, "already started"
        self.proc = subprocess.Popen(
            [
                CUPSD,
                "-f",
                "-c",
                str(self.root / "etc" / "cupsd.conf"),
                "-s",
                str(self.root / "etc" / "cups-files.conf"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + CUPSD_START_TIMEOUT_S
        while not self.running():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self.root / "log" / "error_log"
                raise RuntimeError(f"private cupsd did not start: {_tail(log)}")
            time.sleep(0.05)
        if not self._queue_created:
            done = self._run(
                "lpadmin",
                "-p",
                "PDF",
                "-E",
                "-v",
                "cups-pdf:/",
                "-m",
                "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd",
            )
            if done.returncode != 0:
                raise RuntimeError(f"lpadmin failed: {done.stderr}")
            if self.fake_printer:
                done = self._run(
                    "lpadmin",
                    "-p",
                    "FAKE",
                    "-E",
                    "-v",
                    "fakeprinter:/",
                    "-m",
                    "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd",
                )
                if done.returncode != 0:
                    raise RuntimeError(f"lpadmin FAKE failed: {done.stderr}")
            self._queue_created = True

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def disable(self, queue: str = "PDF") -> None:
        self._run("cupsdisable", queue)

    def enable(self, queue: str = "PDF") -> None:
        self._run("cupsenable", queue)


def _tail(path: Path) -> str:
    try:
        return path.read_text()[-2000:]
    except FileNotFoundError:
        return "(no log)"
