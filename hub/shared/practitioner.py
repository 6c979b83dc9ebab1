"""The prescriber's mentions that are checked the same way on a prescription and in a
doctor's account (video/config.py): RPPS number, phone, professional address, e-mail.
Messages in French: the doctor reads them on the prescription form."""

from __future__ import annotations

import re


def luhn_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is its Luhn check digit."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def check_rpps(value: str) -> str:
    compact = re.sub(r"\s", "", value)
    if not re.fullmatch(r"\d{11}", compact):
        raise ValueError("le numéro RPPS a 11 chiffres")
    if not luhn_valid(compact):
        raise ValueError("numéro RPPS invalide (la clé de contrôle, dernier chiffre, est fausse)")
    return compact


def normalise_phone(value: str) -> str:
    """A French phone number as +33 followed by 9 digits."""
    compact = re.sub(r"[\s.\-()]", "", value)
    if compact.startswith("+33"):
        rest = compact[3:]
    elif compact.startswith("0033"):
        rest = compact[4:]
    elif compact.startswith("0"):
        rest = compact[1:]
    else:
        raise ValueError("numéro de téléphone français attendu (0X XX XX XX XX ou +33 X ...)")
    if not re.fullmatch(r"[1-9]\d{8}", rest):
        raise ValueError("numéro de téléphone français attendu : 10 chiffres")
    return "+33" + rest


def check_address(value: str) -> str:
    if "france" not in value.lower():
        raise ValueError("l'adresse professionnelle doit indiquer le pays : France")
    return value


def check_email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", value):
        raise ValueError("adresse e-mail invalide")
    return value


def format_phone(e164: str) -> str:
    """+33123456789 -> +33 1 23 45 67 89."""
    rest = e164[3:]
    pairs = " ".join(rest[i : i + 2] for i in range(1, 9, 2))
    return f"+33 {rest[0]} {pairs}"
