"""`kiosk hub tokens add|revoke|list`: a booking platform's bearer tokens."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from hub.settings import HubSettings


def register_tokens(hsub: Any) -> None:
    from hub.cli import _config_arg

    tokens = hsub.add_parser("tokens", help="booking platforms' API tokens")
    tsub = tokens.add_subparsers(metavar="ACTION", required=True)
    add = tsub.add_parser("add", help="create a token; prints it once")
    add.add_argument("name", help="who uses it, e.g. plateforme-rdv")
    _config_arg(add)
    add.set_defaults(handler=cmd_tokens_add)
    revoke = tsub.add_parser("revoke", help="refuse a token from now on")
    revoke.add_argument("name")
    _config_arg(revoke)
    revoke.set_defaults(handler=cmd_tokens_revoke)
    lst = tsub.add_parser("list", help="tokens, when made, whether revoked (never the token)")
    _config_arg(lst)
    lst.set_defaults(handler=cmd_tokens_list)


def cmd_tokens_add(args: argparse.Namespace) -> int:
    from hub import audit
    from hub.booking.tokens import TokenError, add_token
    from hub.cli import _now, _with_db

    async def work(db: Any, settings: HubSettings) -> str:
        async with db.transaction() as s:
            token = await add_token(s, args.name, _now())
            audit.record(
                s, at=_now(), actor=getpass.getuser(), role="administrator",
                action="api_token_add", target=args.name, client="cli",
            )  # fmt: skip
            return token

    try:
        token = _with_db(args, work)
    except TokenError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"token {args.name} (booking at every site; shown once, keep it secret):")
    print(token)
    print("use it as the header  Authorization: Bearer <token>  on /api/v1/")
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    from hub import audit
    from hub.booking.tokens import TokenError, revoke
    from hub.cli import _now, _with_db

    async def work(db: Any, settings: HubSettings) -> None:
        async with db.transaction() as s:
            await revoke(s, args.name, _now())
            audit.record(
                s, at=_now(), actor=getpass.getuser(), role="administrator",
                action="api_token_revoke", target=args.name, client="cli",
            )  # fmt: skip

    try:
        _with_db(args, work)
    except TokenError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"token {args.name} revoked: refused from now on")
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    from hub.booking.tokens import listing
    from hub.cli import _with_db

    async def work(db: Any, settings: HubSettings) -> list[Any]:
        async with db.read() as s:
            return await listing(s)

    for token in _with_db(args, work):
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        print(f"{token.name}\t{','.join(token.roles)}\t{token.created_at:%Y-%m-%d}\t{state}")
    return 0
