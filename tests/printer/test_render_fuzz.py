"""Whatever text the doctor types, rendering never crashes (markup, controls, emoji...)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.shared.prescription import parse_prescription
from printer.errors import PrescriptionInvalid
from printer.render import render_prescription
from tests.printer.conftest import sample_prescription
from tests.printer.cups_env import pdf_text

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=text, posology=text, notes=text)
def test_any_text_renders_or_is_refused(name: str, posology: str, notes: str) -> None:
    data = sample_prescription()
    data["patient"]["family_name"] = name
    data["items"][0]["posology"] = posology
    data["notes"] = notes
    try:
        rx = parse_prescription(data)
    except PrescriptionInvalid:
        return
    pdf = render_prescription(rx)
    assert pdf.startswith(b"%PDF")


def test_markup_is_printed_as_text(tmp_path: Path) -> None:
    data = sample_prescription()
    data["patient"]["family_name"] = "<b>Dupont</b> & fils"
    data["items"][0]["posology"] = "x" * 300
    path = tmp_path / "rx.pdf"
    path.write_bytes(render_prescription(parse_prescription(data)))
    assert "<b>Dupont</b> & fils" in pdf_text(path)


def test_control_characters_are_refused() -> None:
    data = sample_prescription()
    data["patient"]["family_name"] = "Dupont\x00"
    data["items"][0]["posology"] = "1 comprimé\x07"
    with pytest.raises(PrescriptionInvalid) as caught:
        parse_prescription(data)
    assert {p["path"] for p in caught.value.problems} == {
        "patient.family_name",
        "items.0.posology",
    }
