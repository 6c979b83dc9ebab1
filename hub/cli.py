"""`kiosk hub ...`: run the hub, migrate its store, enrol cabins, manage accounts."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from hub.settings import HubSettings, load_hub_settings

DEFAULT_CONFIG = Path("/etc/kiosk/hub.toml")
T = TypeVar("T")


def register(sub: Any) -> None:
    from hub.demo.cli import add_demo_parser

    add_demo_parser(sub)
    hub = sub.add_parser("hub", help="the central service: run it, enrol cabins, accounts")
    hsub = hub.add_subparsers(metavar="ACTION", required=True)

    run = hsub.add_parser("run", help="run the hub")
    _config_arg(run)
    run.add_argument("--log-level", default="INFO")
    run.add_argument("--runtime-file", type=Path, help=argparse.SUPPRESS)  # tests: the URL
    run.set_defaults(handler=cmd_run)

    mig = hsub.add_parser("migrate", help="create or upgrade the hub's database schema")
    _config_arg(mig)
    mig.set_defaults(handler=cmd_migrate)

    cabins = hsub.add_parser("cabins", help="enrol, list and revoke cabins")
    csub = cabins.add_subparsers(metavar="ACTION", required=True)
    add = csub.add_parser("add", help="create a cabin; prints its one-time enrolment secret")
    add.add_argument("name", help="the cabin's id, e.g. nangis-01 (its [site] cabin_id)")
    add.add_argument("--site", required=True, help="site code, e.g. NAN231")
    _config_arg(add)
    add.set_defaults(handler=cmd_cabins_add)
    revoke = csub.add_parser("revoke", help="cut a cabin off now; it must be enrolled again")
    revoke.add_argument("name")
    _config_arg(revoke)
    revoke.set_defaults(handler=cmd_cabins_revoke)
    lst = csub.add_parser("list", help="cabins, their site and state")
    _config_arg(lst)
    lst.set_defaults(handler=cmd_cabins_list)

    _accounts_parser(hsub, "doctors", "doctors' accounts", role="doctor")
    _accounts_parser(hsub, "accounts", "any account (coordinator, technician...)", role=None)

    from hub.booking.cli import register_tokens

    register_tokens(hsub)

    from hub.records.cli import register_hub as register_records

    register_records(hsub)

    aud = hsub.add_parser("audit", help="the latest audit entries")
    aud.add_argument("--limit", type=int, default=50)
    _config_arg(aud)
    aud.set_defaults(handler=cmd_audit)


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", type=Path, default=DEFAULT_CONFIG, help="hub TOML")


def _accounts_parser(hsub: Any, name: str, what: str, role: str | None) -> None:
    parser = hsub.add_parser(name, help=what)
    asub = parser.add_subparsers(metavar="ACTION", required=True)
    add = asub.add_parser("add", help="create an account (asks the password)")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="as shown, e.g. 'Dr Claire Martin'")
    if role is None:
        add.add_argument(
            "--role", action="append", required=True,
            choices=["doctor", "coordinator", "technician", "administrator"],
        )  # fmt: skip
    add.add_argument("--sites", default="", help="site codes, comma-separated, or '*' for all")
    add.add_argument("--specialty")
    add.add_argument("--rpps", help="11 digits, checked")
    add.add_argument("--address", help="professional address, ending with 'France'")
    add.add_argument("--phone")
    add.add_argument("--email")
    add.add_argument("--password-stdin", action="store_true", help="read the password on stdin")
    _config_arg(add)
    add.set_defaults(handler=cmd_accounts_add, fixed_role=role)
    disable = asub.add_parser("disable", help="disable an account; its sessions end now")
    disable.add_argument("username")
    _config_arg(disable)
    disable.set_defaults(handler=cmd_accounts_disable)
    reset = asub.add_parser("reset-2fa", help="a lost phone: enrol the second factor again")
    reset.add_argument("username")
    _config_arg(reset)
    reset.set_defaults(handler=cmd_accounts_reset)
    lst = asub.add_parser("list", help="accounts and their roles")
    _config_arg(lst)
    lst.set_defaults(handler=cmd_accounts_list, fixed_role=role)


def _with_db(args: argparse.Namespace, work: Callable[[Any, HubSettings], Awaitable[T]]) -> T:
    from hub.store import Database, migrate

    settings = load_hub_settings(args.config)

    async def run() -> T:
        db = Database(settings.database_url)
        try:
            await migrate.check(db)
            return await work(db, settings)
        finally:
            await db.close()

    return asyncio.run(run())


def _now() -> datetime:
    return datetime.now(UTC)


def cmd_run(args: argparse.Namespace) -> int:
    from hub.service import Hub
    from hub.shared import logs
    from hub.store.migrate import SchemaMismatch

    settings = load_hub_settings(args.config)
    logs.setup(args.log_level)
    try:
        asyncio.run(Hub(settings, runtime_file=args.runtime_file, freeze_gc=True).run())
    except SchemaMismatch as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from hub.store import Database, migrate

    settings = load_hub_settings(args.config)

    async def run() -> tuple[str | None, str]:
        db = Database(settings.database_url)
        try:
            return await migrate.upgrade(db)
        finally:
            await db.close()

    before, after = asyncio.run(run())
    print(f"schema {before or '(empty)'} -> {after}" if before != after else f"schema {after}")
    return 0


def cmd_cabins_add(args: argparse.Namespace) -> int:
    from hub.cabins.enrolment import EnrolmentError, add_cabin
    from hub.sync_sites import sync_sites

    async def work(db: Any, settings: HubSettings) -> str:
        await sync_sites(db, settings)
        async with db.transaction() as s:
            return await add_cabin(
                s, args.name, args.site, _now(), timedelta(hours=settings.enrolment_hours)
            )

    try:
        secret = _with_db(args, work)
    except EnrolmentError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"cabin {args.name} at site {args.site}")
    print(f"enrolment secret (once, valid {load_hub_settings(args.config).enrolment_hours} h):")
    print(secret)
    print(f"on the cabin: kiosk enrol --config /etc/kiosk/cabin.toml --secret {secret}")
    return 0


def cmd_cabins_revoke(args: argparse.Namespace) -> int:
    from hub import audit
    from hub.cabins.enrolment import EnrolmentError, revoke

    async def work(db: Any, settings: HubSettings) -> None:
        async with db.transaction() as s:
            await revoke(s, args.name, _now())
            audit.record(
                s, at=_now(), actor=getpass.getuser(), role="administrator",
                action="cabin_revoke", target=args.name, client="cli",
            )  # fmt: skip

    try:
        _with_db(args, work)
    except EnrolmentError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"cabin {args.name} revoked: its connection closes within a second")
    return 0


def cmd_cabins_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from hub.store.models import Cabin

    async def work(db: Any, settings: HubSettings) -> list[Cabin]:
        async with db.read() as s:
            return list((await s.scalars(select(Cabin).order_by(Cabin.id))).all())

    for cabin in _with_db(args, work):
        if cabin.revoked_at is not None:
            state = "revoked"
        elif cabin.credential_hash is None:
            state = "awaiting enrolment"
        else:
            state = "online" if cabin.online else "offline"
        print(f"{cabin.id}\t{cabin.site_code}\t{state}\t{cabin.software_version or ''}")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the two passwords differ")
    return first


def cmd_accounts_add(args: argparse.Namespace) -> int:
    from hub.auth.accounts import AccountError, NewAccount, add_account
    from hub.auth.passwords import WeakPassword, hash_password
    from hub.sync_sites import sync_sites

    roles = [args.fixed_role] if args.fixed_role else list(dict.fromkeys(args.role))
    try:
        password_hash = hash_password(_read_password(args))
    except WeakPassword as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    new = NewAccount(
        username=args.username,
        display_name=args.name,
        roles=roles,
        password_hash=password_hash,
        sites=[c.strip() for c in args.sites.split(",") if c.strip()],
        specialty=args.specialty,
        rpps=args.rpps,
        address=args.address,
        phone=args.phone,
        email=args.email,
    )

    async def work(db: Any, settings: HubSettings) -> None:
        await sync_sites(db, settings)
        async with db.transaction() as s:
            await add_account(s, new, _now())

    try:
        _with_db(args, work)
    except AccountError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"account {args.username} ({', '.join(roles)}) created: the second factor is")
    print("enrolled at the first login (a QR code to scan with an authenticator app)")
    return 0


def cmd_accounts_disable(args: argparse.Namespace) -> int:
    from hub.auth.accounts import AccountError, disable

    async def work(db: Any, settings: HubSettings) -> None:
        async with db.transaction() as s:
            await disable(s, args.username, _now())

    try:
        _with_db(args, work)
    except AccountError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"account {args.username} disabled; its sessions are closed")
    return 0


def cmd_accounts_reset(args: argparse.Namespace) -> int:
    from hub.auth.accounts import AccountError, reset_second_factor

    async def work(db: Any, settings: HubSettings) -> None:
        async with db.transaction() as s:
            await reset_second_factor(s, args.username)

    try:
        _with_db(args, work)
    except AccountError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"{args.username}: the second factor will be enrolled again at the next login")
    return 0


def cmd_accounts_list(args: argparse.Namespace) -> int:
    from hub.auth.accounts import listing, sites_of

    async def work(db: Any, settings: HubSettings) -> list[tuple[Any, set[str]]]:
        async with db.read() as s:
            return [(a, await sites_of(s, a.id)) for a in await listing(s, args.fixed_role)]

    for account, sites in _with_db(args, work):
        state = "disabled" if account.disabled_at else "active"
        factor = "2FA enrolled" if account.totp_enrolled_at else "2FA not enrolled"
        print(
            f"{account.username}\t{account.display_name}\t{','.join(account.roles)}\t"
            f"{','.join(sorted(sites)) or '-'}\t{state}\t{factor}"
        )
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from hub import audit

    async def work(db: Any, settings: HubSettings) -> list[Any]:
        async with db.read() as s:
            return await audit.recent(s, limit=args.limit)

    for e in reversed(_with_db(args, work)):
        print(f"{e.at.isoformat()}\t{e.actor}\t{e.actor_role}\t{e.action}\t{e.target}\t{e.outcome}")
    return 0


def check_config(path: Path) -> str:
    """`kiosk config check` on a hub file: the one-line summary (ConfigError if bad)."""
    settings = load_hub_settings(path)
    codes = ", ".join(s.code for s in settings.sites)
    return f"{path}: OK (hub, {len(settings.sites)} site(s): {codes})"
