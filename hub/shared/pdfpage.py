"""Page furniture shared by every printed document: fonts, the QR code, "page n/N",
the patient and the document number on every page, deterministic PDF bytes."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate

from hub.shared.document_errors import PrinterError

# DejaVu covers Latin with accents, Greek and Cyrillic (Debian: fonts-dejavu-core).
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"

Paper = Literal["A4", "A5"]
# The white margin around a QR code, in modules (ISO/IEC 18004 asks for 4).
QR_QUIET_MODULES = 4


class FontMissing(PrinterError):
    """The DejaVu fonts are not installed (Debian package fonts-dejavu-core)."""


def register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name in (FONT, FONT_BOLD):
        path = FONT_DIR / f"{name}.ttf"
        if not path.exists():
            raise FontMissing(f"font {path} is missing: install fonts-dejavu-core")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


@dataclasses.dataclass(frozen=True)
class PageLayout:
    paper: Paper
    size: tuple[float, float]
    margin: float
    top: float  # room for the QR code and the running header
    bottom: float  # room for the running footer
    body_pt: float
    qr_size: float

    @classmethod
    def for_paper(cls, paper: Paper) -> PageLayout:
        if paper == "A5":
            return cls("A5", A5, 12 * mm, 34 * mm, 20 * mm, 9.0, 24 * mm)
        return cls("A4", A4, 18 * mm, 44 * mm, 24 * mm, 10.5, 30 * mm)

    def qr_box(self) -> tuple[float, float, float]:
        """x, y (bottom left, in points) and side of the QR code, quiet zone included."""
        width, height = self.size
        return (
            width - self.margin - self.qr_size,
            height - self.margin * 0.4 - self.qr_size,
            (self.qr_size),
        )


@dataclasses.dataclass(frozen=True)
class RunningText:
    """What every page carries besides the body."""

    title: str  # "Ordonnance" or "Compte rendu"
    number: str
    patient_line: str  # "Hélène DUPONT, née le 02/03/1948"
    footer_mention: str  # "Ordonnance établie dans le cadre d'une téléconsultation"
    issued_at: datetime
    author: str


def _pdf_date(when: datetime) -> str:
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hh, mm_ = divmod(abs(minutes), 60)
    return f"D:{when:%Y%m%d%H%M%S}{sign}{hh:02d}'{mm_:02d}'"


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
    """Keeps every page until save() so each can say "page n/N" and carry the footer."""

    def __init__(self, *args: Any, running: RunningText, layout: PageLayout, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._running = running
        self._layout = layout
        self._pages: list[dict[str, Any]] = []
        fixed = _pdf_date(running.issued_at)
        # Creation and modification dates come from the document, not the clock.
        self.setDateFormatter(lambda *_parts: fixed)

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for n, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_running(n, total)
            Canvas.showPage(self)
        Canvas.save(self)

    def _draw_running(self, page: int, total: int) -> None:
        r, lay = self._running, self._layout
        width, _height = lay.size
        small = lay.body_pt - 2
        numbered = f"{r.title} n° {r.number}"
        # A long number (a record's 32 characters) and the mention do not share a line.
        used = sum(self.stringWidth(text, FONT, small) for text in (numbered, r.footer_mention))
        apart = used > width - 2 * lay.margin - 4 * mm
        y = lay.bottom - 8 * mm + (small + 3 if apart else 0)
        self.setStrokeColorRGB(0.6, 0.6, 0.6)
        self.line(lay.margin, y + small + 2, width - lay.margin, y + small + 2)
        self.setFont(FONT, small)
        self.drawString(lay.margin, y, r.patient_line)
        self.drawRightString(width - lay.margin, y, f"page {page}/{total}")
        y -= small + 3
        self.drawString(lay.margin, y, numbered)
        if apart:
            y -= small + 3
        self.drawRightString(width - lay.margin, y, r.footer_mention)


def qr_widget(value: str) -> QrCodeWidget:
    """The QR code of a document number, with its quiet zone (scanners need it)."""
    return QrCodeWidget(value, barLevel="M", barBorder=QR_QUIET_MODULES)


def draw_header(canvas: Canvas, doc: Any, running: RunningText, layout: PageLayout) -> None:
    """QR code with the number at the top right of every page; a reminder on later pages."""
    _width, height = layout.size
    x, y, size = layout.qr_box()
    widget = qr_widget(running.number)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)
    canvas.setFont(FONT, layout.body_pt - 3)
    canvas.drawCentredString(x + size / 2, y - (layout.body_pt - 4), running.number)
    if doc.page > 1:
        canvas.setFont(FONT_BOLD, layout.body_pt)
        canvas.drawString(
            layout.margin, height - layout.margin, f"{running.title} n° {running.number} (suite)"
        )
        canvas.setFont(FONT, layout.body_pt)
        canvas.drawString(
            layout.margin, height - layout.margin - layout.body_pt - 3, running.patient_line
        )


def build_pdf(story: Sequence[Flowable], running: RunningText, layout: PageLayout) -> bytes:
    """The PDF bytes: identical for identical input (invariant mode, fixed dates)."""
    register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=layout.size,
        leftMargin=layout.margin,
        rightMargin=layout.margin,
        topMargin=layout.top,
        bottomMargin=layout.bottom,
        invariant=1,
        title=f"{running.title} {running.number}",
        author=running.author,
        subject=running.footer_mention,
        creator="cabin-kiosk",
        producer="cabin-kiosk",
        initialFontName=FONT,
    )

    def on_page(canvas: Canvas, d: Any) -> None:
        draw_header(canvas, d, running, layout)

    def make_canvas(*args: Any, **kwargs: Any) -> _NumberedCanvas:
        return _NumberedCanvas(*args, running=running, layout=layout, **kwargs)

    doc.build(list(story), onFirstPage=on_page, onLaterPages=on_page, canvasmaker=make_canvas)
    return buf.getvalue()
