"""Which components the daemon runs. Each package adds its factory here."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.component import Component, Context

# Started in this order, stopped in reverse. Each factory takes the shared context.
ComponentFactory = Callable[[Context], Component]


def component_factories() -> list[ComponentFactory]:
    factories: list[ComponentFactory] = []
    from kiosk.checkin import checkin_factory

    factories.append(checkin_factory)
    from video.component import call_component

    factories.append(call_component)
    from hygiene.component import create as hygiene_component

    factories.append(hygiene_component)
    from printer.service import printer_component

    factories.append(printer_component)
    from devices.supervisor import instruments_component

    factories.append(instruments_component)
    from kiosk.record.component import record_component

    factories.append(record_component)  # before the hub link: it hooks the outbox's acks
    from kiosk.hub_link.component import hub_link_component

    factories.append(hub_link_component)
    return factories
