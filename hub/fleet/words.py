"""The technician's words: cabin states, instruments and printers in plain French, and
times as a French reader writes them ("depuis 12 min", "le 01/03 à 10:02").

The hub never imports the cabin's packages: the codes below are the ones the cabin sends
(kiosk/lifecycle, devices/config, printer/cups_client); an unknown code shows as itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

STATES = {
    "closed": "Fermée (hors horaires)",
    "idle": "Libre",
    "check_in": "Accueil d'un patient",
    "waiting": "Patient en attente du médecin",
    "in_consultation": "En consultation",
    "checkout": "Fin de consultation",
    "awaiting_disinfection": "En attente de désinfection",
    "cleaning": "Désinfection en cours",
    "out_of_service": "Hors service",
}

INSTRUMENT_KINDS = {
    "blood_pressure": "tensiomètre",
    "thermometer": "thermomètre",
    "pulse_oximeter": "oxymètre",
    "scale": "balance",
    "body_composition": "impédancemètre",
    "glucometer": "glucomètre",
    "heart_rate": "cardiofréquencemètre",
    "otoscope": "otoscope",
    "dermatoscope": "dermatoscope",
    "stethoscope": "stéthoscope",
}

INSTRUMENT_STATES = {
    "absent": "absent",
    "ready": "prêt",
    "measuring": "mesure en cours",
    "error": "en erreur",
    "low_battery": "batterie faible",
}

PRINTER_STATES = {
    "idle": "prête",
    "ok": "prête",
    "printing": "impression en cours",
    "warning": "avertissement",
    "stopped": "arrêtée",
    "error": "en erreur",
    "unreachable": "injoignable",
    "none": "aucune",
}

ALERT_KINDS = {
    "offline": "Hors ligne",
    "out_of_service": "Hors service",
    "awaiting_disinfection": "Désinfection en retard",
    "battery_low": "Batterie faible",
    "printer_error": "Imprimante en erreur",
    "paper_low": "Papier bientôt épuisé",
    "hygiene_chain": "Journal d'hygiène rompu",
}

CALL_STATES = {
    "waiting": "en attente",
    "connecting": "connexion",
    "connected": "en cours",
    "reconnecting": "reconnexion",
    "ended": "terminé",
}


def label(table: dict[str, str], code: str | None) -> str:
    if code is None:
        return "inconnu"
    return table.get(code, code)


def duration(delta: timedelta) -> str:
    """12 min, 2 h 05, 3 j 4 h: how long, the way a dashboard says it."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return "moins d'une minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days} j {hours} h" if hours else f"{days} j"


def at_time(when: datetime, zone: ZoneInfo) -> str:
    """le 01/03 à 10:02, in the site's time zone."""
    local = when.astimezone(zone)
    return f"le {local:%d/%m} à {local:%H:%M}"
