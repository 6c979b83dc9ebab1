"""The consultation report as a PDF, in French: what the GP receives and the patient keeps.

Public API:
- ``render_report(record, paper="A4") -> bytes``: the PDF; the same record gives the same
  bytes. A draft (not signed) says so on its first line.
- ``measurement_label(code) -> str``, ``unit_label(ucum) -> str``: how a LOINC code and a
  UCUM unit are written for a French reader ("Poids", "mmHg").

Page furniture (fonts, QR code of the record number, "page n/N", the patient on every
page, fixed PDF dates) and numbers and dates (``21,4 kg``, ``23 novembre 2026``) come
from the printer (``hub.shared.pdfpage``, ``hub.shared.l10n``), as on the prescription."""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from hub.shared import l10n
from hub.shared.pdfpage import (
    FONT,
    FONT_BOLD,
    PageLayout,
    Paper,
    RunningText,
    build_pdf,
    register_fonts,
)
from hub.shared.prescription import PARIS, SUMMARY_MENTION, doctor_title
from hub.shared.record import ConsultationRecord, Observation

TITLE = "Compte rendu de téléconsultation"
# Short French names of the LOINC codes the cabin's instruments send (devices/coding.py);
# the doctor's console writes them the same way (hub/console/static/console.js).
LOINC_FR = {
    "8480-6": "Pression artérielle systolique",
    "8462-4": "Pression artérielle diastolique",
    "8478-0": "Pression artérielle moyenne",
    "8867-4": "Pouls",
    "8310-5": "Température",
    "59408-5": "SpO2",
    "61006-3": "Indice de perfusion",
    "29463-7": "Poids",
    "8302-2": "Taille",
    "39156-5": "IMC",
    "41982-0": "Masse grasse",
    "2339-0": "Glycémie",
    "15074-8": "Glycémie",
}
UNITS_FR = {"mm[Hg]": "mmHg", "Cel": "°C", "/min": "/min", "kg/m2": "kg/m²"}
REPORT_SECTIONS = (
    ("reason", "Motif de consultation"),
    ("findings", "Examen"),
    ("conclusion", "Conclusion"),
    ("advice", "Conseils"),
    ("follow_up", "Suivi"),
)


def measurement_label(code: str) -> str:
    return LOINC_FR.get(code, code)


def unit_label(ucum: str) -> str:
    return UNITS_FR.get(ucum, ucum)


class _Styles:
    def __init__(self, layout: PageLayout) -> None:
        pt = layout.body_pt
        self.body = ParagraphStyle("body", fontName=FONT, fontSize=pt, leading=pt * 1.3)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=pt - 1.5)
        self.title = ParagraphStyle(
            "title", parent=self.body, fontName=FONT_BOLD, fontSize=pt + 5, leading=pt * 1.9
        )
        self.heading = ParagraphStyle(
            "heading", parent=self.body, fontName=FONT_BOLD, spaceBefore=pt * 0.8
        )
        self.item = ParagraphStyle("item", parent=self.body, leftIndent=5 * mm)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _paris(at: datetime) -> datetime:
    return at.astimezone(PARIS)


def _time(at: datetime) -> str:
    local = _paris(at)
    return f"{local:%H} h {local:%M}"


def _ins(number: str) -> str:
    """``2 48 03 2A 004 017 50``: the INS number as the carte Vitale writes it."""
    parts = (number[0], number[1:3], number[3:5], number[5:7], number[7:10], number[10:13])
    return " ".join(parts) + f" {number[13:]}"


def _value(o: Observation) -> str:
    return l10n.quantity(o.value, unit_label(o.unit))


def _measurements(record: ConsultationRecord, st: _Styles, layout: PageLayout) -> list[Flowable]:
    rows = [
        [
            _p(measurement_label(o.code), st.body),
            _p(_value(o), st.body),
            _p(_time(o.taken_at), st.small),
            _p(o.device or "", st.small),
        ]
        for o in record.observations
    ]
    width = layout.size[0] - 2 * layout.margin
    table = Table(rows, colWidths=[width * 0.42, width * 0.22, width * 0.14, width * 0.22])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, (0.75, 0.75, 0.75)),
            ]
        )
    )
    return [_p("Mesures prises dans la cabine", st.heading), table]


def _header(record: ConsultationRecord, st: _Styles) -> list[Flowable]:
    p = record.patient
    out: list[Flowable] = []
    if not record.signed:
        out.append(_p("BROUILLON — compte rendu non signé", st.heading))
    out.append(_p(TITLE, st.title))
    day = l10n.long_date(_paris(record.started_at).date())
    out.append(_p(f"Le {day} à {_time(record.started_at)}, cabine : {record.site_name}", st.body))
    doctor = record.practitioner
    specialty = f", {doctor.specialty}" if doctor.specialty else ""
    out.append(_p(f"{doctor_title(doctor.name)}{specialty} — RPPS {doctor.rpps}", st.body))
    out.append(Spacer(1, 3 * mm))
    born = "née" if p.sex == "F" else "né" if p.sex == "M" else "né(e)"
    lines = [f"Patient : {p.display_name}, {born} le {l10n.numeric_date(p.birth_date)}"]
    if p.used_name:
        lines.append(f"Nom de naissance : {p.birth_name.upper()}")
    if p.ins_number:
        lines.append(f"INS ({p.ins_kind}) : {_ins(p.ins_number)}")
    gp = record.general_practitioner
    if gp is not None:
        lines.append(f"Médecin traitant : {doctor_title(gp.name)}")
    out += [_p(line, st.body) for line in lines]
    return out


def _prescription(record: ConsultationRecord, st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [_p("Prescription", st.heading)]
    for n, item in enumerate(record.prescription_lines, start=1):
        details = [item.posology]
        if item.duration:
            details.append(f"pendant {item.duration}")
        if item.quantity:
            details.append(f"quantité : {item.quantity}")
        if item.renewals:
            details.append(f"à renouveler {item.renewals} fois")
        text = f"{n}. {item.medication}\n{' ; '.join(details)}"
        out.append(KeepTogether([_p(text, st.item)]))
    if record.prescription is not None:
        out.append(_p(f"Ordonnance n° {record.prescription.number}", st.small))
    return out


def report_story(record: ConsultationRecord, layout: PageLayout) -> list[Flowable]:
    st = _Styles(layout)
    story = _header(record, st)
    for field, title in REPORT_SECTIONS[:2]:
        text = getattr(record.report, field)
        if text:
            story += [_p(title, st.heading), _p(text, st.body)]
    if record.observations:
        story += _measurements(record, st, layout)
    for field, title in REPORT_SECTIONS[2:]:
        text = getattr(record.report, field)
        if text:
            story += [_p(title, st.heading), _p(text, st.body)]
    if record.prescription_lines:
        story += _prescription(record, st)
    if record.signed_at is not None:
        day = l10n.long_date(_paris(record.signed_at).date())
        story += [
            Spacer(1, 6 * mm),
            _p(
                f"Signé par {doctor_title(record.practitioner.name)} le {day} "
                f"à {_time(record.signed_at)}",
                st.body,
            ),
        ]
    return story


def render_report(record: ConsultationRecord, paper: Paper = "A4") -> bytes:
    # Before the story: a paragraph in bold looks its font family up as it is built (a
    # hub that has printed no prescription yet had none: "Can't map ... dejavusans-bold").
    register_fonts()
    layout = PageLayout.for_paper(paper)
    p = record.patient
    running = RunningText(
        title="Compte rendu",
        number=record.record_id,
        patient_line=f"{p.display_name}, {l10n.numeric_date(p.birth_date)}",
        footer_mention=SUMMARY_MENTION,
        issued_at=_paris(record.signed_at or record.ended_at or record.started_at),
        author=doctor_title(record.practitioner.name),
    )
    return build_pdf(report_story(record, layout), running, layout)
