"""Failed logins per client address and per account, in the database (so several hub
instances and a restart see the same count): five in five minutes, then wait."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import LoginFailure

FAILURES_ALLOWED = 5
WINDOW = timedelta(minutes=5)


class TooManyAttempts(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed attempts, retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


async def check(session: AsyncSession, keys: Sequence[str], now: datetime) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW))
    for key in keys:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(LoginFailure.at)).where(
                    LoginFailure.key == key, LoginFailure.at > now - WINDOW
                )
            )
        ).one()
        if count >= FAILURES_ALLOWED and oldest is not None:
            raise TooManyAttempts((oldest + WINDOW - now).total_seconds())


def failed(session: AsyncSession, keys: Sequence[str], now: datetime) -> None:
    for key in keys:
        session.add(LoginFailure(key=key, at=now))


async def succeeded(session: AsyncSession, keys: Sequence[str]) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.key.in_(list(keys))))
