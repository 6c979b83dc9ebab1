"""bench_hub's fleet: the hub's configuration, and the cabins and doctors in its database.

Sites hold CABINS_PER_SITE cabins each; each doctor serves SITES_PER_DOCTOR sites, spread
so that every site has the same number of doctors (10 with the defaults). One doctor in
CONSULT_EVERY has a consultation going on with a cabin of one of their sites.

Created straight in the database with the hub's own functions (not over HTTP):
- cabins: ``hub.cabins.enrolment.add_cabin`` then ``enrol`` (what ``POST /cabin/enrol``
  calls with the one-time secret), which gives each cabin its credential;
- doctors: ``hub.auth.accounts.add_account`` (one argon2 hash shared by all: hashing 400
  passwords would only slow the set-up), then a session per doctor opened by
  ``hub.auth.sessions.open_session`` + ``second_factor_given``, as the password + TOTP
  login does; the console sends its token as the ``kiosk_hub`` cookie."""

from __future__ import annotations

import dataclasses
import functools
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CABINS_PER_SITE = 10
SITES_PER_DOCTOR = 5
CONSULT_EVERY = 4  # one doctor in 4 is in a consultation (the relay's traffic)
KIOSK = Path(sys.executable).with_name("kiosk")
# The hub's own subcommands without the rest of `kiosk` (see hub_command).
HUB_CLI = (
    "import argparse, sys; from hub import cli; p = argparse.ArgumentParser(); "
    "cli.register(p.add_subparsers()); a = p.parse_args(); sys.exit(a.handler(a))"
)

SITE = """
[[sites]]
code = "{code}"
name = "Site {code}"
address = "1 place de la Mairie, 77000 Melun, France"
consultation_minutes = 30
[sites.hours]
always_open = true
"""


@dataclasses.dataclass(frozen=True)
class Shape:
    cabins: int
    doctors: int

    @property
    def sites(self) -> int:
        return max(1, math.ceil(self.cabins / CABINS_PER_SITE))

    @property
    def label(self) -> str:
        return f"{self.cabins}/{self.doctors}"


def site_code(index: int) -> str:
    return f"B{index:04d}"


def cabin_id(index: int) -> str:
    return f"cab-{index:04d}"


def doctor_sites(shape: Shape, doctor: int) -> list[str]:
    per = min(SITES_PER_DOCTOR, shape.sites)
    return [site_code((doctor * per + k) % shape.sites) for k in range(per)]


def write_config(folder: Path, shape: Shape, heartbeat_s: float) -> Path:
    sites = "".join(SITE.format(code=site_code(i)) for i in range(shape.sites))
    config = folder / "hub.toml"
    config.write_text(
        f"""
listen_host = "127.0.0.1"
listen_port = 0
database_url = "sqlite+aiosqlite:///{folder / "hub.sqlite3"}"
heartbeat_s = {heartbeat_s}
{sites}
""",
        encoding="utf-8",
    )
    return config


@functools.cache
def hub_command() -> tuple[list[str], str]:
    """`kiosk hub`, or, when the `kiosk` script does not start (the tree is shared and
    kiosk/ may be half-edited), the same hub.cli subcommands through `python -c`."""
    probe = subprocess.run([str(KIOSK), "hub", "--help"], capture_output=True, check=False)
    if probe.returncode == 0:
        return [str(KIOSK), "hub"], "kiosk hub run"
    why = probe.stderr.decode(errors="replace").strip().splitlines()[-1:]
    return [sys.executable, "-c", HUB_CLI, "hub"], f"hub.cli's run (kiosk fails: {why})"


def migrate(config: Path) -> None:
    """`kiosk hub migrate`: the schema the hub refuses to start without."""
    subprocess.run(
        [*hub_command()[0], "migrate", "--config", str(config)],
        check=True,
        capture_output=True,
    )


async def populate(config: Path, shape: Shape) -> dict[str, Any]:
    """Sites, enrolled cabins and logged-in doctors; the plan the load generators follow
    (without the hub's URL)."""
    from hub.auth.accounts import NewAccount, add_account
    from hub.auth.passwords import hash_password
    from hub.auth.sessions import open_session, second_factor_given, token_hash
    from hub.cabins.enrolment import add_cabin, enrol
    from hub.settings import load_hub_settings
    from hub.store import Database
    from hub.sync_sites import sync_sites

    settings = load_hub_settings(config)
    db = Database(settings.database_url)
    now = datetime.now(UTC)
    cabins: list[dict[str, Any]] = []
    doctors: list[dict[str, Any]] = []
    try:
        await sync_sites(db, settings)
        async with db.transaction() as s:
            for i in range(shape.cabins):
                cid, site = cabin_id(i), site_code(i // CABINS_PER_SITE)
                secret = await add_cabin(s, cid, site, now, timedelta(hours=1))
                credential = await enrol(s, cid, secret, now)
                cabins.append({"id": cid, "site": site, "credential": credential})
        password_hash = hash_password("bench horse battery staple")
        async with db.transaction() as s:
            for d in range(shape.doctors):
                sites = doctor_sites(shape, d)
                account = await add_account(
                    s,
                    NewAccount(
                        username=f"dr.bench{d:04d}",
                        display_name=f"Dr Bench {d}",
                        roles=["doctor"],
                        password_hash=password_hash,
                        sites=sites,
                    ),
                    now,
                )
                token = await open_session(s, account, now, timedelta(hours=12))
                await s.flush()
                await second_factor_given(s, token_hash(token), now)
                doctors.append({"index": d, "token": token, "sites": sites, "cabin": None})
    finally:
        await db.close()
    _assign_consultations(cabins, doctors)
    return {"cabins": cabins, "doctors": doctors}


def _assign_consultations(cabins: list[dict[str, Any]], doctors: list[dict[str, Any]]) -> None:
    """Every CONSULT_EVERY-th doctor gets a cabin of one of their sites to consult with;
    that cabin has no other patient during the bench."""
    free: dict[str, list[dict[str, Any]]] = {}
    for cabin in cabins:
        cabin["consult"] = False
        free.setdefault(cabin["site"], []).append(cabin)
    for doctor in doctors[::CONSULT_EVERY]:
        for site in doctor["sites"]:
            if free.get(site):
                cabin = free[site].pop()
                cabin["consult"] = True
                doctor["cabin"] = cabin["id"]
                break
