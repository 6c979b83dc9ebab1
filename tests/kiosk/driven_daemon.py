"""A real cabin daemon process with one extra, test-only component that lets a test drive
the lifecycle over HTTP (POST /test/transition, POST /test/disinfect).

Run as: python -m tests.kiosk.driven_daemon CONFIG. Everything else is the production
daemon: same settings, storage, API, signals and sd_notify."""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from hub.shared import logs
from kiosk.component import Component, Context
from kiosk.daemon import Daemon
from kiosk.lifecycle import State, TransitionRefused
from kiosk.settings import load_settings
from kiosk.wiring import ComponentFactory
from tests.disinfection import mark_test_disinfection


class LifecycleDriver(Component):
    name = "test_driver"

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.post("/test/transition", self.transition),
            web.post("/test/disinfect", self.disinfect),
        ]

    async def transition(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.ctx.lifecycle.transition(State(body["to"]), "test driver")
        except TransitionRefused as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response({"state": self.ctx.lifecycle.state.value})

    async def disinfect(self, request: web.Request) -> web.Response:
        store = self.ctx.lifecycle.store
        session = store.undisinfected_session()
        if session is None:
            return web.json_response({"error": "nothing to disinfect"}, status=409)
        mark_test_disinfection(store, session)
        return web.json_response({"session": session})


def driver(ctx: Context) -> Component:
    return LifecycleDriver(ctx)


def run_with(extra: ComponentFactory) -> None:
    """The production daemon on the config named by argv[1], plus one test component."""
    settings = load_settings(sys.argv[1])
    logs.setup("INFO")
    asyncio.run(Daemon(settings, extra_components=[extra]).run())


def main() -> None:
    run_with(driver)


if __name__ == "__main__":
    main()
