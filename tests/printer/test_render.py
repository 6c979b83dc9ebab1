"""Rendering: deterministic bytes, every mention in the text, multi-page furniture."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hub.shared.prescription import parse_prescription
from printer.render import TELECONSULTATION_MENTION, render_prescription
from tests.printer.conftest import CHILD_SAMPLE, REPO, SAMPLE, sample_prescription, text_of
from tests.printer.cups_env import pdf_text


def page_count(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    for line in info.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError("no page count")


@pytest.mark.parametrize("sample", [SAMPLE, CHILD_SAMPLE], ids=["adult", "child"])
def test_same_input_same_bytes_even_in_another_process(sample: Path) -> None:
    rx = parse_prescription(sample_prescription(sample))
    first = render_prescription(rx)
    assert render_prescription(rx) == first
    code = (
        "import hashlib, json, sys\n"
        "from hub.shared.prescription import parse_prescription\n"
        "from printer.render import render_prescription\n"
        "rx = parse_prescription(json.load(open(sys.argv[1], encoding='utf-8')))\n"
        "print(hashlib.sha256(render_prescription(rx)).hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(sample)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert out.stdout.strip() == hashlib.sha256(first).hexdigest()


def test_dates_in_the_pdf_come_from_issued_at(tmp_path: Path) -> None:
    rx = parse_prescription(sample_prescription())
    path = tmp_path / "rx.pdf"
    path.write_bytes(render_prescription(rx))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    # 2026-11-23T10:30:00+01:00
    assert "Nov 23 09:30:00 2026 UTC" in info.stdout


def expected_mentions(data: dict[str, Any], number: str) -> list[str]:
    pres, pat = data["prescriber"], data["patient"]
    mentions = [
        pres["name"],
        pres["specialty"],
        f"N° RPPS : {pres['rpps']}",
        pres["address"],
        "+33 1 64 00 00 00",
        pres["email"],
        "Le 23 novembre 2026",
        f"{pat['given_name']} {pat['family_name']}",
        "Née le 02/03/1948 (78 ans)",
        "sexe féminin",
        "poids : 62 kg",
        TELECONSULTATION_MENTION,
        f"Ordonnance n° {number}",
        "Signé électroniquement par Dr Élise Lefèvre le 23 novembre 2026 à 10:30",
        "Non substituable",
        "À renouveler 2 fois",
        "page 1/1",
    ]
    for item in data["items"]:
        mentions += [item["medication"], item["duration"]]
    mentions.append("Quantité : 1 boîte de 8 comprimés")
    return mentions


def test_every_mention_and_item_is_in_the_text(tmp_path: Path) -> None:
    data = sample_prescription()
    rx = parse_prescription(data)
    text = " ".join(text_of(render_prescription(rx), tmp_path).split())
    for mention in expected_mentions(data, rx.prescription_number):
        assert " ".join(mention.split()) in text, mention
    for item in data["items"]:
        assert " ".join(item["posology"].split())[:40] in text


@pytest.mark.parametrize(
    ("family", "given"),
    [("Lefèvre-Ñúñez", "Zoë"), ("Παπαδόπουλος", "Ελένη"), ("Иванова", "Жанна"), ("Nguyễn", "Thị")],
)
def test_accents_and_non_latin_names_are_exact(tmp_path: Path, family: str, given: str) -> None:
    data = sample_prescription()
    data["patient"].update(family_name=family, given_name=given)
    text = text_of(render_prescription(parse_prescription(data)), tmp_path)
    assert f"{given} {family}" in text


def test_multi_page_carries_name_number_and_page_n_of_n(tmp_path: Path) -> None:
    data = sample_prescription()
    data["items"] = data["items"] * 7  # 21 lines: three A4 pages
    rx = parse_prescription(data)
    pdf = render_prescription(rx)
    pages = page_count(pdf, tmp_path)
    assert pages == 3
    text = text_of(pdf, tmp_path)
    per_page = text.split("\f")
    assert len([p for p in per_page if p.strip()]) == pages
    for n, page in enumerate(per_page[:pages], start=1):
        assert f"page {n}/{pages}" in page
        assert "Hélène Dupont, née le 02/03/1948" in page
        assert rx.prescription_number in page
    assert "21. Lévothyroxine" in text


def test_a5_paper(tmp_path: Path) -> None:
    rx = parse_prescription(sample_prescription())
    path = tmp_path / "a5.pdf"
    path.write_bytes(render_prescription(rx, "A5"))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert "419.528 x 595.276 pts" in info.stdout  # A5 in points


def tiny_png() -> str:
    """A 4x2 black PNG, base64, built by hand (no image library needed)."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x00" * 4 for _ in range(2))  # filter 0, 4 grey pixels
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 2, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


def test_signature_image_is_drawn(tmp_path: Path) -> None:
    data = sample_prescription()
    data["prescriber"]["signature_png"] = tiny_png()
    path = tmp_path / "signed.pdf"
    path.write_bytes(render_prescription(parse_prescription(data)))
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    )
    assert len(images.stdout.strip().splitlines()) == 3  # header, rule, one image
    assert "Signé électroniquement" in pdf_text(path)


def test_signature_must_be_a_png() -> None:
    from printer.errors import PrescriptionInvalid

    data = sample_prescription()
    data["prescriber"]["signature_png"] = "bm90IGEgcG5n"  # "not a png"
    with pytest.raises(PrescriptionInvalid) as caught:
        parse_prescription(data)
    assert caught.value.problems[0]["path"] == "prescriber.signature_png"


def test_corrupt_png_signature_is_refused() -> None:
    import base64

    from printer.errors import PrescriptionInvalid

    data = sample_prescription()
    raw = base64.b64decode(tiny_png())
    data["prescriber"]["signature_png"] = base64.b64encode(raw[:40]).decode()
    with pytest.raises(PrescriptionInvalid) as caught:
        parse_prescription(data)
    assert caught.value.problems == [
        {"path": "prescriber.signature_png", "message": "image de signature : PNG illisible"}
    ]
