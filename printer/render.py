"""Prescriptions to PDF (reportlab), in French (the consultation report is
hub/shared/report_pdf.py, which the printer prints too).

Same input, same bytes: invariant mode and dates taken from ``issued_at``."""

from __future__ import annotations

import base64
import io
from datetime import date, datetime
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, Spacer

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
from hub.shared.practitioner import format_phone
from hub.shared.prescription import (
    PARIS,
    Patient,
    Prescriber,
    Prescription,
    doctor_title,
)

TELECONSULTATION_MENTION = "Ordonnance établie dans le cadre d'une téléconsultation"
SIGNATURE_HEIGHT_MM = 18
SIGNATURE_WIDTH_MM = 60
# "Mme" and "M." are for adults: a child is named alone, with their age.
MAJORITY_AGE_YEARS = 18
# Below this age, a child's age is given in months (or days), as on a health record.
AGE_IN_MONTHS_BELOW_YEARS = 2


class _Styles:
    def __init__(self, layout: PageLayout) -> None:
        register_fonts()
        pt = layout.body_pt
        self.body = ParagraphStyle(
            "body", fontName=FONT, fontSize=pt, leading=pt * 1.3, alignment=TA_LEFT
        )
        self.small = ParagraphStyle("small", parent=self.body, fontSize=pt - 1.5, leading=pt * 1.15)
        self.title = ParagraphStyle(
            "title", parent=self.body, fontName=FONT_BOLD, fontSize=pt + 5, leading=pt * 1.9
        )
        self.strong = ParagraphStyle("strong", parent=self.body, fontName=FONT_BOLD)
        self.item = ParagraphStyle("item", parent=self.body, leftIndent=5 * mm)
        self.item_strong = ParagraphStyle("item_strong", parent=self.item, fontName=FONT_BOLD)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def long_date(when: datetime) -> str:
    return l10n.long_date(when.astimezone(PARIS).date())


def _born(patient: Patient) -> str:
    return {"F": "née", "M": "né"}.get(patient.sex or "", "né(e)")


def patient_line(patient: Patient) -> str:
    return (
        f"{patient.given_name} {patient.family_name}, "
        f"{_born(patient)} le {l10n.numeric_date(patient.birth_date)}"
    )


def civility(patient: Patient, on: date) -> str:
    """ "Mme " or "M. " before an adult's name; nothing for a child or an unknown sex."""
    if patient.sex is None or patient.age_on(on) < MAJORITY_AGE_YEARS:
        return ""
    return {"F": "Mme ", "M": "M. "}[patient.sex]


def age_text(patient: Patient, on: date) -> str:
    """ "78 ans"; under two years "14 mois", under a month "12 jours"."""
    years = patient.age_on(on)
    if years >= AGE_IN_MONTHS_BELOW_YEARS:
        return f"{years} ans"
    born = patient.birth_date
    months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    if months >= 1:
        return f"{months} mois"
    days = (on - born).days
    return f"{days} jour" if days <= 1 else f"{days} jours"


def _prescriber_block(p: Prescriber, st: _Styles) -> list[Flowable]:
    lines = [_p(doctor_title(p.name), st.strong)]
    if p.specialty:
        lines.append(_p(p.specialty, st.body))
    if p.rpps:
        lines.append(_p(f"N° RPPS : {p.rpps}", st.body))
    if p.address:
        lines.append(_p(p.address, st.body))
    contact = [f"Tél. : {format_phone(p.phone)}" if p.phone else "", p.email or ""]
    if any(contact):
        lines.append(_p("  —  ".join(c for c in contact if c), st.body))
    return [*lines, Spacer(1, 4 * mm)]


def _patient_block(patient: Patient, issued_at: datetime, st: _Styles) -> list[Flowable]:
    day = issued_at.astimezone(PARIS).date()
    born = f"{_born(patient).capitalize()} le {l10n.numeric_date(patient.birth_date)}"
    details = [f"{born} ({age_text(patient, day)})"]
    if patient.sex is not None:
        details.append(f"sexe {'féminin' if patient.sex == 'F' else 'masculin'}")
    if patient.weight_kg is not None:
        details.append(f"poids : {l10n.quantity(patient.weight_kg, 'kg')}")
    if patient.height_cm is not None:
        details.append(f"taille : {l10n.quantity(patient.height_cm, 'cm')}")
    name = f"{civility(patient, day)}{patient.given_name} {patient.family_name}"
    return [
        _p(f"Patient : {name}", st.strong),
        _p(" — ".join(details), st.body),
        Spacer(1, 4 * mm),
    ]


def _signature(p: Prescriber, issued_at: datetime, st: _Styles) -> list[Flowable]:
    local = issued_at.astimezone(PARIS)
    flow: list[Flowable] = [
        Spacer(1, 6 * mm),
        _p(
            f"Signé électroniquement par {doctor_title(p.name)} le {long_date(issued_at)} "
            f"à {local:%H:%M}",
            st.strong,
        ),
    ]
    if p.signature_png is not None:
        raw = base64.b64decode(p.signature_png)
        img = Image(
            io.BytesIO(raw),
            width=SIGNATURE_WIDTH_MM * mm,
            height=SIGNATURE_HEIGHT_MM * mm,
            kind="proportional",
        )
        img.hAlign = "LEFT"
        flow.append(img)
    return flow


def _item_block(n: int, item_text: list[tuple[str, bool]], st: _Styles) -> Flowable:
    parts: list[Flowable] = []
    for i, (text, bold) in enumerate(item_text):
        style = (st.strong if i == 0 else st.item_strong) if bold else st.item
        parts.append(_p(f"{n}. {text}" if i == 0 else text, style))
    parts.append(Spacer(1, 3 * mm))
    return KeepTogether(parts)


def prescription_story(rx: Prescription, layout: PageLayout) -> list[Flowable]:
    st = _Styles(layout)
    story: list[Flowable] = _prescriber_block(rx.prescriber, st)
    story += [
        _p(f"Le {long_date(rx.issued_at)}", st.body),
        Spacer(1, 3 * mm),
        *_patient_block(rx.patient, rx.issued_at, st),
        _p("ORDONNANCE", st.title),
        _p(TELECONSULTATION_MENTION, st.small),
        Spacer(1, 4 * mm),
    ]
    for n, item in enumerate(rx.items, start=1):
        lines: list[tuple[str, bool]] = [(item.medication, True), (item.posology, False)]
        amounts = []
        if item.duration:
            amounts.append(f"Durée : {item.duration}")
        if item.quantity:
            amounts.append(f"Quantité : {item.quantity}")
        lines.append(("  —  ".join(amounts), False))
        if item.renewals:
            lines.append((f"À renouveler {item.renewals} fois", False))
        else:
            lines.append(("Non renouvelable", False))
        if item.non_substitutable:
            lines.append(("Non substituable", True))
        story.append(_item_block(n, lines, st))
    if rx.notes:
        story += [Spacer(1, 2 * mm), _p(f"Remarques : {rx.notes}", st.body)]
    story += _signature(rx.prescriber, rx.issued_at, st)
    return story


def render_prescription(rx: Prescription, paper: Paper = "A4") -> bytes:
    layout = PageLayout.for_paper(paper)
    running = RunningText(
        title="Ordonnance",
        number=rx.prescription_number,
        patient_line=patient_line(rx.patient),
        footer_mention=TELECONSULTATION_MENTION,
        issued_at=rx.issued_at,
        author=doctor_title(rx.prescriber.name),
    )
    return build_pdf(prescription_story(rx, layout), running, layout)
