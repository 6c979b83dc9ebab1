"""`kiosk enrol`: trade the hub's one-time enrolment secret for the cabin's credential."""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from pathlib import Path
from typing import Any

import aiohttp

from hub.shared import wire
from kiosk.hub_link import credential

ENROL_TIMEOUT_S = 20.0


def add_enrol_parser(sub: Any) -> None:
    enrol = sub.add_parser("enrol", help="enrol this cabin at its hub (once, by a technician)")
    enrol.add_argument("--config", "-c", type=Path, required=True, help="cabin TOML file")
    enrol.add_argument("--secret", required=True, help="printed by 'kiosk hub cabins add'")
    enrol.add_argument("--hub", help="hub URL (default: the first of [hub] urls)")
    enrol.set_defaults(handler=cmd_enrol)


async def enrol(
    hub_url: str, cabin_id: str, secret: str, ca_file: Path | None = None
) -> str:
    """The credential, or RuntimeError with the hub's reason."""
    url = hub_url.rstrip("/") + wire.ENROL_PATH
    timeout = aiohttp.ClientTimeout(total=ENROL_TIMEOUT_S)
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    connector = aiohttp.TCPConnector(ssl=context or True)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        try:
            async with http.post(url, json={"cabin_id": cabin_id, "secret": secret}) as resp:
                body = await resp.json(content_type=None)
                if resp.status != 200:
                    raise RuntimeError(f"the hub refused ({resp.status}): {body.get('error')}")
                return str(body["credential"])
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RuntimeError(f"cannot reach the hub at {hub_url}: {type(exc).__name__}") from exc


def cmd_enrol(args: argparse.Namespace) -> int:
    from kiosk.settings import load_settings

    settings = load_settings(args.config)
    hub_url = args.hub or (settings.hub.urls[0] if settings.hub else None)
    if hub_url is None:
        print("no hub URL: give --hub or add [hub] urls to the configuration", file=sys.stderr)
        return 2
    cabin_id = settings.site.cabin_id
    try:
        ca_file = settings.hub.ca_file if settings.hub else None
        secret = asyncio.run(enrol(hub_url, cabin_id, args.secret, ca_file))
    except RuntimeError as exc:
        print(f"enrolment failed: {exc}", file=sys.stderr)
        return 1
    path = credential.save(settings.storage.state_dir, credential.Credential(cabin_id, secret))
    print(f"cabin {cabin_id} enrolled at {hub_url}; credential stored in {path}")
    return 0
