"""The demo's accounts, one per role, their second factor already enrolled with a secret
the demo prints (so an authenticator app can be set up with it), passwords printed too.
Only `kiosk demo` creates them, in its own database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from hub.auth.accounts import NewAccount, add_account, by_username
from hub.auth.passwords import hash_password
from hub.store import Database
from hub.store.models import Account

# A base32 TOTP secret, public on purpose: it is the demo's.
DEMO_TOTP_SECRET = "KIOSKDEMOTOTPSECRETFORALLROLES23"  # noqa: S105 - the demo's, public


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    name: str


DOCTOR = DemoAccount("demo", "demo-doctor-pass", "doctor", "Dr Claire Martin (démonstration)")
COORDINATOR = DemoAccount(
    "coordination", "demo-coordination", "coordinator", "Coordination médicale (démonstration)"
)
TECHNICIAN = DemoAccount(
    "technicien", "demo-technicien", "technician", "Technicien (démonstration)"
)
ACCOUNTS = (DOCTOR, COORDINATOR, TECHNICIAN)


async def create_demo_accounts(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as s:
        for demo in ACCOUNTS:
            if await by_username(s, demo.username) is not None:
                continue  # kept from an earlier run (--state-dir)
            doctor = demo.role == "doctor"
            await add_account(
                s,
                NewAccount(
                    username=demo.username,
                    display_name=demo.name,
                    roles=[demo.role],
                    password_hash=hash_password(demo.password),
                    sites=["*"],
                    rpps="10003456786" if doctor else None,
                    address="2 rue de Melun, 77000 Melun, France" if doctor else None,
                    phone="+33 1 23 45 67 89" if doctor else None,
                    email="c.martin@example.fr" if doctor else None,
                ),
                now,
            )
        for account in await s.scalars(select(Account)):
            if account.totp_enrolled_at is None:
                account.totp_secret = DEMO_TOTP_SECRET
                account.totp_enrolled_at = now
