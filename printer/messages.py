"""What the patient, the doctor and the technician are told about the printer, in French.

Printer-state-reasons come from CUPS (RFC 8011 keywords with an optional -report,
-warning or -error suffix). Messages carry no patient data."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Literal

DocumentKind = Literal["prescription", "report"]


@dataclasses.dataclass(frozen=True)
class Messages:
    patient: str
    doctor: str
    technician: str


@dataclasses.dataclass(frozen=True)
class _Cause:
    patient: str  # what happened, in plain words
    doctor: str  # short cause
    technician: str  # what to do


# Reasons that stop printing until someone acts, by keyword without suffix.
_BLOCKING: dict[str, _Cause] = {
    "media-empty": _Cause(
        "L'imprimante n'a plus de papier.",
        "plus de papier",
        "Recharger le papier de l'imprimante (media-empty).",
    ),
    "media-needed": _Cause(
        "L'imprimante n'a plus de papier.",
        "plus de papier",
        "Recharger le papier de l'imprimante (media-needed).",
    ),
    "media-jam": _Cause(
        "Le papier est coincé dans l'imprimante.",
        "bourrage papier",
        "Retirer le papier coincé (media-jam).",
    ),
    "door-open": _Cause(
        "Une trappe de l'imprimante est ouverte.",
        "trappe ouverte",
        "Fermer la trappe de l'imprimante (door-open).",
    ),
    "cover-open": _Cause(
        "Le capot de l'imprimante est ouvert.",
        "capot ouvert",
        "Fermer le capot de l'imprimante (cover-open).",
    ),
    "offline": _Cause(
        "L'imprimante ne répond pas.",
        "imprimante hors ligne",
        "Vérifier l'alimentation et le câble de l'imprimante (offline).",
    ),
    "shutdown": _Cause(
        "L'imprimante est éteinte.",
        "imprimante éteinte",
        "Allumer l'imprimante (shutdown).",
    ),
    "toner-empty": _Cause(
        "L'imprimante n'a plus d'encre.",
        "plus d'encre",
        "Remplacer la cartouche de toner (toner-empty).",
    ),
    "marker-supply-empty": _Cause(
        "L'imprimante n'a plus d'encre.",
        "plus d'encre",
        "Remplacer la cartouche (marker-supply-empty).",
    ),
    "paused": _Cause(
        "L'imprimante est momentanément arrêtée.",
        "imprimante désactivée",
        "La file d'impression est désactivée : la réactiver (cupsenable {queue}).",
    ),
}
# Reasons that only warn: printing goes on.
_WARNINGS: dict[str, str] = {
    "toner-low": "Toner bientôt vide : prévoir une cartouche (toner-low).",
    "marker-supply-low": "Encre bientôt vide : prévoir une cartouche (marker-supply-low).",
    "media-low": "Papier bientôt épuisé : prévoir une ramette (media-low).",
}
_ALIASES = {"offline-report": "offline", "connecting-to-device": "offline", "timed-out": "offline"}

KEPT_PATIENT = (
    "Votre document est bien enregistré : il sera imprimé dès que l'imprimante sera "
    "disponible. Vous pouvez aussi demander à l'accueil de vous le remettre."
)


def _keyword(reason: str) -> tuple[str, str]:
    for suffix in ("-error", "-warning", "-report"):
        if reason.endswith(suffix):
            base = reason[: -len(suffix)]
            return _ALIASES.get(reason, _ALIASES.get(base, base)), suffix[1:]
    return _ALIASES.get(reason, reason), ""


def blocking_reasons(reasons: Iterable[str]) -> list[str]:
    """The reasons that stop printing (a -warning suffix never does)."""
    out = []
    for reason in reasons:
        key, severity = _keyword(reason)
        if key in _BLOCKING and severity != "warning":
            out.append(key)
    return out


def warnings(reasons: Iterable[str]) -> list[str]:
    """Technician messages for reasons that do not stop printing (toner low...)."""
    out = []
    for reason in reasons:
        key, severity = _keyword(reason)
        if key in _WARNINGS:
            out.append(_WARNINGS[key])
        elif key in _BLOCKING and severity == "warning":
            out.append(_BLOCKING[key].technician)
    return out


def _noun(kind: DocumentKind) -> str:
    return "l'ordonnance" if kind == "prescription" else "le compte rendu"


def _e(kind: DocumentKind) -> str:
    """Feminine agreement for l'ordonnance."""
    return "e" if kind == "prescription" else ""


def printer_blocked(reasons: Iterable[str], queue: str, kind: DocumentKind) -> Messages:
    """The printer cannot print now (stopped queue, no paper, jam...)."""
    keys = blocking_reasons(reasons) or ["paused"]
    causes = [_BLOCKING[k] for k in dict.fromkeys(keys)]
    return Messages(
        patient=f"{causes[0].patient} {KEPT_PATIENT}",
        doctor=(
            f"Impression en attente ({', '.join(c.doctor for c in causes)}) : "
            f"{_noun(kind)} est enregistré{_e(kind)} et sera imprimé{_e(kind)} "
            "automatiquement."
        ),
        technician=" ".join(c.technician.format(queue=queue) for c in causes),
    )


def not_accepting(queue: str, kind: DocumentKind) -> Messages:
    return Messages(
        patient=f"L'impression est momentanément indisponible. {KEPT_PATIENT}",
        doctor=(
            f"Impression en attente (file fermée) : {_noun(kind)} sera imprimé{_e(kind)} plus tard."
        ),
        technician=f"La file {queue} refuse les travaux : cupsaccept {queue}.",
    )


def unreachable(server: str | None, kind: DocumentKind) -> Messages:
    where = server or "local"
    return Messages(
        patient=f"L'impression est momentanément indisponible. {KEPT_PATIENT}",
        doctor=(
            f"Service d'impression injoignable : {_noun(kind)} est conservé{_e(kind)} et "
            f"sera imprimé{_e(kind)} dès son retour."
        ),
        technician=(
            f"Le serveur CUPS ({where}) ne répond pas : vérifier le service "
            "(systemctl status cups)."
        ),
    )


def queue_missing(queue: str, kind: DocumentKind) -> Messages:
    return Messages(
        patient=f"L'impression est momentanément indisponible. {KEPT_PATIENT}",
        doctor=f"Imprimante non configurée : {_noun(kind)} est conservé{_e(kind)}.",
        technician=(
            f"La file CUPS « {queue} » n'existe pas : vérifier [printer] queue dans la "
            "configuration (lpstat -p)."
        ),
    )


def printing(kind: DocumentKind) -> Messages:
    what = "Votre ordonnance" if kind == "prescription" else "Votre compte rendu"
    return Messages(
        patient=f"{what} est en cours d'impression.",
        doctor=f"Impression de {_noun(kind)} en cours.",
        technician="Travail envoyé à CUPS.",
    )


def completed(kind: DocumentKind) -> Messages:
    if kind == "prescription":
        return Messages(
            patient="Votre ordonnance est imprimée : prenez-la dans le bac de l'imprimante.",
            doctor="L'ordonnance est imprimée.",
            technician="Travail terminé.",
        )
    return Messages(
        patient="Votre compte rendu est imprimé : prenez-le dans le bac de l'imprimante.",
        doctor="Le compte rendu est imprimé.",
        technician="Travail terminé.",
    )


def job_failed_retrying(kind: DocumentKind, detail: str) -> Messages:
    return Messages(
        patient=f"L'impression a échoué, nouvel essai en cours. {KEPT_PATIENT}",
        doctor=f"Échec d'impression de {_noun(kind)} : nouvel essai automatique.",
        technician=f"Travail CUPS en échec ({detail}) : nouvel essai.",
    )


def gave_up(kind: DocumentKind, attempts: int) -> Messages:
    return Messages(
        patient=(
            "L'impression n'a pas abouti. Votre document est enregistré : demandez à "
            "l'accueil de le réimprimer, ou le médecin vous l'enverra."
        ),
        doctor=(
            f"Impossible d'imprimer {_noun(kind)} après {attempts} essais : "
            "réimpression possible depuis la cabine, ou envoyez-le par un autre canal."
        ),
        technician=f"Abandon après {attempts} essais : vérifier l'imprimante puis réimprimer.",
    )


def held_for_next_free_booth(kind: DocumentKind) -> Messages:
    """A previous consultation's document while another patient is in the booth."""
    return Messages(
        patient="",
        doctor="",
        technician=(
            f"Impression de {_noun(kind)} d'une consultation précédente en attente : "
            "elle se fera quand la cabine sera libre."
        ),
    )
