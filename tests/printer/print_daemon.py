"""A real cabin daemon process with one test-only route that submits a prescription the
way the doctor console does: POST /test/prescription (JSON body) ->
ctx.components["printer"].submit_prescription(body, None).

Run as: python -m tests.printer.print_daemon CONFIG. Everything else is the production
daemon (every component, storage, signals)."""

from __future__ import annotations

from aiohttp import web

from kiosk.component import Component, Context
from printer.errors import PrescriptionInvalid
from printer.service import PrinterService
from tests.kiosk.driven_daemon import run_with


class PrintDriver(Component):
    name = "print_test_driver"

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post("/test/prescription", self.submit)]

    async def submit(self, request: web.Request) -> web.Response:
        printer = self.ctx.components["printer"]
        assert isinstance(printer, PrinterService)
        try:
            doc_id = await printer.submit_prescription(await request.json(), None)
        except PrescriptionInvalid as exc:
            return web.json_response({"problems": exc.problems}, status=422)
        return web.json_response({"document_id": doc_id}, status=201)


def driver(ctx: Context) -> Component:
    return PrintDriver(ctx)


def main() -> None:
    run_with(driver)


if __name__ == "__main__":
    main()
