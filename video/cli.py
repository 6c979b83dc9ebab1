"""`kiosk doctor ...`: the doctor accounts of [call] doctors."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any


def register(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="doctor accounts of the console")
    dsub = doctor.add_subparsers(metavar="ACTION", required=True)
    hash_cmd = dsub.add_parser(
        "hash-password",
        help="print the argon2 hash of a password, for [[call.doctors]] password_hash",
    )
    hash_cmd.add_argument(
        "--stdin", action="store_true", help="read the password from stdin (one line)"
    )
    hash_cmd.set_defaults(handler=cmd_hash_password)


def cmd_hash_password(args: argparse.Namespace) -> int:
    from video.auth import hash_password

    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Confirmer : ") != password:
            print("les deux mots de passe diffèrent", file=sys.stderr)
            return 2
    if len(password) < 8:
        print("mot de passe trop court (8 caractères au moins)", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0
