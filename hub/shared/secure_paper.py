"""Medicines that French law lets a doctor prescribe only on secure prescription paper
(ordonnance sécurisée: stupéfiants and medicines that follow their prescribing rules).

A cabin prints on plain paper, so these are refused with a message telling the doctor
to use another channel. The list errs on the side of refusing: INN names and the
common French brand names, matched as whole words, accents and case ignored."""

from __future__ import annotations

import re
import unicodedata

# INN (DCI) names, without accents.
SECURE_PAPER_INN = frozenset(
    {
        "morphine",
        "oxycodone",
        "fentanyl",
        "sufentanil",
        "alfentanil",
        "remifentanil",
        "hydromorphone",
        "methadone",
        "buprenorphine",
        "pethidine",
        "tapentadol",
        "methylphenidate",
        "ketamine",
        "cocaine",
        "dexamfetamine",
        "amfetamine",
        "oxybate",  # sodium oxybate (GHB)
        "nabilone",
        "dronabinol",
        "clonazepam",  # oral forms: secure paper since 2012
        "zolpidem",  # secure paper since 2017
        "flunitrazepam",
        "diamorphine",
    }
)

# French brand names of the above.
SECURE_PAPER_BRANDS = frozenset(
    {
        "skenan",
        "actiskenan",
        "moscontin",
        "sevredol",
        "oramorph",
        "oxycontin",
        "oxynorm",
        "oxynormoro",
        "durogesic",
        "abstral",
        "instanyl",
        "effentora",
        "pecfent",
        "recivit",
        "sophidone",
        "subutex",
        "orobupre",
        "suboxone",
        "zubsolv",
        "buvidal",
        "temgesic",
        "palexia",
        "ritaline",
        "concerta",
        "quasym",
        "medikinet",
        "ketalar",
        "xyrem",
        "rivotril",
        "stilnox",
        "rohypnol",
    }
)

_WORD = re.compile(r"[a-z0-9]+")


def _ascii_lower(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def secure_paper_substance(medication: str) -> str | None:
    """The word of ``medication`` that needs secure paper, or None when plain paper is fine."""
    for match in _WORD.finditer(_ascii_lower(medication)):
        word = match.group(0)
        if word in SECURE_PAPER_INN or word in SECURE_PAPER_BRANDS:
            return word
    return None


def secure_paper_message(medication: str, substance: str) -> str:
    return (
        f"« {medication} » ({substance}) exige une ordonnance sécurisée (stupéfiant ou "
        "assimilé) : elle ne peut pas être imprimée dans la cabine. Retirez cette ligne et "
        "prescrivez ce médicament par un autre canal (ordonnance sécurisée papier envoyée "
        "au patient ou à sa pharmacie)."
    )
