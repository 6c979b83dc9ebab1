"""The disinfection log for inspectors, as CSV or PDF: session ids, times, referent names
and steps. No patient data exists in the log, so none can leak here."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hygiene.log import LogEntry, VerifyResult

CSV_COLUMNS = (
    "seq",
    "cabin_id",
    "session_id",
    "outcome",
    "started_at",
    "ended_at",
    "referent",
    "steps",
    "instruments_cleaned",
    "consumables_replaced",
    "anomalies",
    "hash",
)


def _time(iso: str | None) -> str:
    return "" if not iso else datetime.fromisoformat(iso).strftime("%H:%M:%S")


def _steps(content: dict[str, Any]) -> str:
    parts = []
    for step in content["steps"]:
        done = _time(step.get("confirmed_at")) or step.get("status", "")
        parts.append(f"{step['id']} {done}")
    return "; ".join(parts)


def _anomalies(content: dict[str, Any]) -> str:
    return "; ".join(f"{a['step_id']}: {a['reason']}" for a in content["anomalies"])


def row(entry: LogEntry) -> dict[str, str]:
    c = entry.content
    return {
        "seq": str(entry.seq),
        "cabin_id": c["cabin_id"],
        "session_id": c["session_id"],
        "outcome": c["outcome"],
        "started_at": c["started_at"],
        "ended_at": c["ended_at"],
        "referent": c["referent_name"],
        "steps": _steps(c),
        "instruments_cleaned": ", ".join(c["instruments_cleaned"]),
        "consumables_replaced": ", ".join(c["consumables_replaced"]),
        "anomalies": _anomalies(c),
        "hash": entry.hash,
    }


def to_csv(entries: Sequence[LogEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow(row(entry))
    return out.getvalue()


def to_pdf(
    entries: Sequence[LogEntry], *, cabin: str, since: datetime, check: VerifyResult
) -> bytes:
    """An A4 landscape table, with the chain's verification result on top."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Registre de désinfection {cabin}",
    )
    verdict = "intègre" if check.ok else f"ALTÉRÉE à l'entrée {check.bad_seq} ({check.reason})"
    story: list[Any] = [
        Paragraph(f"Registre de désinfection — cabine {cabin}", styles["Title"]),
        Paragraph(
            f"Entrées depuis le {since.date().isoformat()} : {len(entries)}. "
            f"Chaîne SHA-256 : {verdict}. Heures en UTC.",
            styles["BodyText"],
        ),
        Spacer(1, 4 * mm),
    ]
    header = ["#", "Séance", "Début", "Fin", "Référent", "Étapes", "Consommables", "Anomalies"]
    data: list[list[Any]] = [header]
    for entry in entries:
        r = row(entry)
        data.append(
            [
                r["seq"],
                Paragraph(r["session_id"][:12], small),
                r["started_at"][:19].replace("T", " "),
                _time(r["ended_at"]),
                Paragraph(r["referent"], small),
                Paragraph(r["steps"], small),
                Paragraph(r["consumables_replaced"], small),
                Paragraph(r["anomalies"] or "—", small),
            ]
        )
    widths = [w * mm for w in (10, 24, 32, 16, 30, 100, 30, 31)]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 7),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    if entries:
        story += [
            Spacer(1, 3 * mm),
            Paragraph(f"Dernière empreinte : {entries[-1].hash}", small),
        ]
    doc.build(story)
    return buffer.getvalue()
