"""The hub's pages in headless Chromium: a first login (password, then the second factor
enrolled from the page's secret, typed as an authenticator app shows it), and what a
page must never show (console errors, CSP violations, refused requests)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from hub.auth.totp import code_at
from tests.hub.fleet import DOCTOR_PASSWORD

WAIT_MS = 15_000


async def log_in(page: Any, url: str, username: str, lands_on: str) -> None:
    """From ``lands_on`` (a page that needs a login) through the login, back to it."""
    await page.goto(url + lands_on)
    await page.wait_for_url("**/login")
    await page.fill("#username", username)
    await page.fill("#password", DOCTOR_PASSWORD)
    await page.click("#password-form button")
    secret = page.locator("#secret")
    await secret.wait_for(timeout=WAIT_MS)
    await page.fill("#enrol-code", code_at(await secret.inner_text(), datetime.now(UTC)))
    await page.click("#enrol-form button")
    await page.click("#recovery-done", timeout=WAIT_MS)
    await page.wait_for_url(f"**{lands_on}*")


def watch(page: Any) -> tuple[list[str], list[tuple[str, int]]]:
    """The page's errors and its requests answered 400 or more, as they come."""
    problems: list[str] = []
    refused: list[tuple[str, int]] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: refused.append((urlsplit(r.url).path, r.status)) if r.status >= 400 else None,
    )
    return problems, refused
