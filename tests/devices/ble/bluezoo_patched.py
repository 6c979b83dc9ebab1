"""Runs bluezoo 1.0.2 (a BlueZ D-Bus mock, GPL, test-only) with a fix for one known quirk.

bluezoo leaves a link's GATT objects exported after a disconnect, so the next connect
tries to export them again and fails. Real BlueZ drops them (for an unbonded device)
and the peripheral stops notifying. The wrapper below does the same: it stops the
notifications the link had started and removes the objects.

Run as a script: ``python bluezoo_patched.py [bluezoo options]``."""

from __future__ import annotations

import contextlib
from typing import Any

from bluezoo import bluezoo
from bluezoo.device import Device
from bluezoo.events import Subscription
from bluezoo.gatt import GattCharacteristicClientLink

_original_disconnect = Device.disconnect


async def _disconnect_and_drop_gatt(self: Any, uuid: str | None = None) -> None:
    await _original_disconnect(self, uuid)
    links = list(self.services.values())
    self.services.clear()
    for link in reversed(links):  # descriptors, then characteristics, then services
        if isinstance(link, GattCharacteristicClientLink):
            # an events.Subscription or a pyventus EventSubscriber: both unsubscribe()
            link.client_props_changed_subscription.unsubscribe()
            link.client_props_changed_subscription = Subscription()
            if link.client.Notifying.get(False):
                with contextlib.suppress(Exception):  # the peripheral may be gone already
                    await link.client.StopNotify()
        self.peer_adapter.mock.remove_object(link)
    for device in (self, self.peer):
        if device is not None and device.services_resolved:
            await device.ServicesResolved.set_async(False)


Device.disconnect = _disconnect_and_drop_gatt

if __name__ == "__main__":
    bluezoo.main()
