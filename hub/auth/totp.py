"""The second factor: RFC 6238 time-based codes (pyotp), as any authenticator app makes.

A code is accepted in its 30 s step or the one before/after (clock drift), and only once:
the step of the last accepted code is stored, so a code seen over a shoulder or replayed
from a captured request is refused."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pyotp
from reportlab.graphics import renderSVG
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

ISSUER = "Cabines de téléconsultation"
STEP_S = 30
# Steps before and after the current one that still count (phone clocks drift).
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(text: str, size: int = 220) -> str:
    """The text as a QR code, an SVG document (reportlab: no new dependency)."""
    widget = QrCodeWidget(text)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    svg: str = renderSVG.drawToString(drawing)
    return svg


@dataclasses.dataclass(frozen=True)
class CodeCheck:
    ok: bool
    step: int | None = None  # the step the code belongs to (store it when ok)
    replayed: bool = False


def check_code(secret: str, code: str, last_step: int | None, now: datetime) -> CodeCheck:
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return CodeCheck(False)
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_S
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(totp.at(step * STEP_S), code):
            if last_step is not None and step <= last_step:
                return CodeCheck(False, step, replayed=True)
            return CodeCheck(True, step)
    return CodeCheck(False)


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator shows at ``at`` (the demo prints it; tests type it)."""
    return pyotp.TOTP(secret).at(at)
