"""The QR code on every page carries the prescription number: the printed modules match
the QR encoding of the number, read back from the rasterised page (pdftoppm)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from hub.shared.pdfpage import QR_QUIET_MODULES, PageLayout, Paper, qr_widget
from hub.shared.prescription import parse_prescription
from printer.render import render_prescription
from tests.printer.conftest import sample_prescription

DPI = 300


def modules_on_page(png: Path, layout: PageLayout, count: int) -> list[list[bool]]:
    image = Image.open(png).convert("L")
    _width, height = layout.size
    x, y, size = layout.qr_box()
    box = size / (count + 2 * QR_QUIET_MODULES)
    scale = DPI / 72
    grid = []
    for r in range(count):
        row = []
        for c in range(count):
            px = (x + (c + QR_QUIET_MODULES + 0.5) * box) * scale
            py = (height - (y + size - (r + QR_QUIET_MODULES + 0.5) * box)) * scale
            row.append(image.getpixel((round(px), round(py))) < 128)
        grid.append(row)
    return grid


@pytest.mark.parametrize("paper", ["A4", "A5"])
def test_qr_code_on_every_page_encodes_the_number(tmp_path: Path, paper: Paper) -> None:
    data = sample_prescription()
    data["items"] = data["items"] * 7
    rx = parse_prescription(data)
    pdf = tmp_path / "rx.pdf"
    pdf.write_bytes(render_prescription(rx, paper))
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    widget = qr_widget(rx.prescription_number)
    widget.qr.make()
    expected = [[bool(m) for m in row] for row in widget.qr.modules]
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    for png in pages:
        assert modules_on_page(png, PageLayout.for_paper(paper), len(expected)) == expected
    other = qr_widget("ORD-0000-0000-0000")
    other.qr.make()
    assert [[bool(m) for m in row] for row in other.qr.modules] != expected
