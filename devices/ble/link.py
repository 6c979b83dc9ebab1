"""An instrument over Bluetooth LE (bleak): find it, connect, subscribe to its health
profile and battery level, report decoded measurements, and come back after a link loss.

One ``BleLink`` per configured instrument; the supervisor runs ``run(sink)`` as a task and
cancels it to stop. A connection (BleakClient) is used once: each reconnection makes a new
one, after a capped exponential backoff that restarts from the beginning once a
connection has worked. With a ``tap`` (``kiosk devices record``) every notification,
read and write is also handed to it; ``devices/replay.py`` replaces the BleakClient
(``_new_client``) to play a capture through the rest of the link."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from devices import gatt
from devices.ble import profiles, racp
from devices.ble.profiles import Trigger, profile_for
from devices.capture import Op, Tap, short_uuid
from devices.config import InstrumentSettings
from devices.link import InstrumentLink, LinkSink
from devices.measurement import DecodeError, Measurement
from kiosk.events import InstrumentState

log = logging.getLogger(__name__)

# An instrument advertises only while switched on (many only after a button press or a
# measurement): after this long without seeing it, report it absent and back off.
SCAN_TIMEOUT_S = 20.0
# BlueZ connection plus GATT service discovery; a healthy LE link takes 1-3 s.
CONNECT_TIMEOUT_S = 20.0
# Subscribing to the characteristics and reading the battery level (a few ATT round trips).
SETUP_TIMEOUT_S = 10.0
# A clean disconnect; if the device is gone BlueZ gives up on its own.
DISCONNECT_TIMEOUT_S = 5.0
# Waits between reconnection attempts: doubling from the first to the cap.
BACKOFF_FIRST_S = 0.5
BACKOFF_CAP_S = 30.0
# At or under this charge the technician is told to change the batteries.
LOW_BATTERY_PERCENT = 20


class BleLinkError(Exception):
    """Root of this module's errors."""


class InstrumentNotFoundError(BleLinkError, TimeoutError):
    """The instrument was not seen advertising (switched off, out of range): retry later."""


class ProfileMismatchError(BleLinkError):
    """The device at the configured address lacks the characteristics of its kind
    (wrong address or wrong kind in the configuration): the technician must fix it."""


async def find_device(address: str, adapter: str | None = None) -> BLEDevice:
    """Scan until the device at ``address`` advertises; InstrumentNotFoundError after
    SCAN_TIMEOUT_S. The detection callback sees every advertisement as it arrives."""
    wanted = address.upper()
    found: asyncio.Future[BLEDevice] = asyncio.get_running_loop().create_future()

    def on_advertisement(device: BLEDevice, _adv: AdvertisementData) -> None:
        if device.address.upper() == wanted and not found.done():
            found.set_result(device)

    bluez: Any = {"adapter": adapter} if adapter else {}
    try:
        async with (
            asyncio.timeout(SCAN_TIMEOUT_S),
            BleakScanner(detection_callback=on_advertisement, bluez=bluez),
        ):
            return await found
    except TimeoutError:
        # (the timeout cancelled ``found`` unless it was seen as the scan stopped)
        if found.done() and not found.cancelled():
            return found.result()
        raise InstrumentNotFoundError(f"{wanted} not seen advertising") from None


class HasUuid(Protocol):
    @property
    def uuid(self) -> str: ...


class GattService(Protocol):
    @property
    def characteristics(self) -> Sequence[HasUuid]: ...


Notify = Callable[[Any, bytearray], None]


class GattClient(Protocol):
    """What the link uses of a BleakClient (a replayed capture provides the same)."""

    @property
    def services(self) -> Iterable[GattService]: ...

    async def connect(self) -> Any: ...

    async def disconnect(self) -> Any: ...

    async def start_notify(self, char_specifier: str, callback: Notify) -> None: ...

    async def read_gatt_char(self, char_specifier: str) -> bytearray: ...

    async def write_gatt_char(
        self, char_specifier: str, data: bytes, response: bool = ...
    ) -> None: ...


class Backoff:
    """Waits between reconnection attempts: ``first``, doubling up to ``cap``; ``reset``
    after a connection that worked."""

    def __init__(self, first: float = BACKOFF_FIRST_S, cap: float = BACKOFF_CAP_S) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(delay * 2, self.cap)
        return delay

    def reset(self) -> None:
        self._next = self.first


class BleLink(InstrumentLink):
    """``adapter`` chooses the local Bluetooth adapter (e.g. "hci0"); default: BlueZ's
    first powered one."""

    def __init__(
        self, settings: InstrumentSettings, *, adapter: str | None = None, tap: Tap | None = None
    ) -> None:
        super().__init__(settings)
        self.tap = tap
        if settings.address is None:
            raise ValueError(f"instrument {settings.name!r}: a BLE instrument needs 'address'")
        self.address = settings.address.upper()
        self.profile = profile_for(settings.kind)
        self.quirks = frozenset(settings.quirks)
        self._adapter = adapter
        self._bluez: Any = {"adapter": adapter} if adapter else {}
        self._sink: LinkSink | None = None
        self._reported: tuple[InstrumentState, str, int | None] | None = None
        self._battery: int | None = None
        self._measuring = False
        self._racp: racp.RacpProcedure | None = None
        # Glucose records: the highest sequence number seen, and whether the records
        # arriving now are only read to learn it (they belong to earlier patients).
        self._last_sequence: int | None = None
        self._learning_sequence = False

    # -- the supervisor's side ---------------------------------------------------

    async def run(self, sink: LinkSink) -> None:
        self._sink = sink
        backoff = Backoff()
        while True:
            worked = False
            try:
                worked = await self._one_connection()
                self._report("absent", "liaison Bluetooth perdue")
            except InstrumentNotFoundError:
                self._report("absent", "instrument introuvable (éteint ou hors de portée)")
            except ProfileMismatchError as exc:
                log.warning("%s: %s", self.settings.name, exc)
                self._report("error", str(exc))
            except (BleakError, TimeoutError, EOFError, OSError) as exc:
                log.warning("%s: connection failed: %r", self.settings.name, exc)
                self._report("absent", f"connexion impossible ({type(exc).__name__})")
            except Exception:
                log.exception("%s: unexpected error on the BLE link", self.settings.name)
                self._report("error", "erreur inattendue de la liaison Bluetooth")
            if worked:
                backoff.reset()
            await asyncio.sleep(backoff.next_delay())

    async def request_measurement(self) -> bool:
        """Glucometer: download the records stored since the last one seen (RACP).
        Other instruments: False, the patient presses the instrument's button."""
        procedure = self._racp
        if self.profile.trigger is not Trigger.STORED_RECORDS or procedure is None:
            return False
        start = 0 if self._last_sequence is None else min(self._last_sequence + 1, 0xFFFF)
        try:
            await procedure.run(racp.RacpRequest.report_from(start))
        except (racp.RacpError, BleakError) as exc:
            log.warning("%s: stored records not downloaded: %r", self.settings.name, exc)
            return False
        return True

    # -- one connection ------------------------------------------------------------

    async def _one_connection(self) -> bool:
        """Find, connect, subscribe, then wait for the link to drop. True if the
        instrument became ready (the backoff then restarts from the beginning)."""
        lost = asyncio.Event()
        client = await self._new_client(lost)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await client.connect()
            subscribed = self._characteristics(client)
            if self.tap is not None:
                self.tap.connected(subscribed)
            async with asyncio.timeout(SETUP_TIMEOUT_S):
                for uuid in subscribed:
                    await client.start_notify(uuid, self._on_value)
                if profiles.BATTERY_LEVEL in subscribed:
                    level = await client.read_gatt_char(profiles.BATTERY_LEVEL)
                    self._tap("read", profiles.BATTERY_LEVEL, level)
                    self._battery = self._battery_percent(level)
            if profiles.RECORD_ACCESS_CONTROL_POINT in subscribed:
                self._racp = racp.RacpProcedure(lambda data: self._write_racp(client, data))
                await self._learn_last_sequence(self._racp)
            self._measuring = False
            log.info("%s: connected to %s", self.settings.name, self.address)
            self._report(self._idle_state(), "connecté")
            await lost.wait()
            log.info("%s: link to %s lost", self.settings.name, self.address)
            return True
        finally:
            self._racp = None
            await self._disconnect(client)

    async def _new_client(self, lost: asyncio.Event) -> GattClient:
        """A BleakClient for the instrument, once it advertises (not connected yet)."""
        device = await find_device(self.address, self._adapter)
        return BleakClient(
            device,
            disconnected_callback=lambda _client: lost.set(),
            timeout=CONNECT_TIMEOUT_S,
            bluez=self._bluez,
        )

    def _write_racp(self, client: GattClient, data: bytes) -> Awaitable[None]:
        self._tap("write", profiles.RECORD_ACCESS_CONTROL_POINT, data)
        return client.write_gatt_char(profiles.RECORD_ACCESS_CONTROL_POINT, data, response=True)

    def _tap(self, op: Op, uuid: str, data: bytes | bytearray) -> None:
        if self.tap is not None:
            self.tap.record(op, bytes(data), short_uuid(uuid))

    def _characteristics(self, client: GattClient) -> list[str]:
        """The characteristics to subscribe to; ProfileMismatchError if some are missing."""
        present = {char.uuid for service in client.services for char in service.characteristics}
        missing = [uuid for uuid in self.profile.required if uuid not in present]
        wanted = [uuid for uuid in self.profile.subscribed if uuid in present]
        if missing or not wanted:
            names = ", ".join(f"0x{gatt.parse_uuid(u):04X}" for u in missing) or "aucune mesure"
            raise ProfileMismatchError(
                f"l'appareil {self.address} n'a pas le profil {self.settings.kind.value} "
                f"(manque : {names})"
            )
        if profiles.BATTERY_LEVEL in present:
            wanted.append(profiles.BATTERY_LEVEL)
        return wanted

    async def _disconnect(self, client: GattClient) -> None:
        """Also after a link loss: bleak releases the connection's own D-Bus socket only
        in ``disconnect()``."""
        with contextlib.suppress(BleakError, TimeoutError, EOFError, OSError):
            async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
                await client.disconnect()

    async def _learn_last_sequence(self, procedure: racp.RacpProcedure) -> None:
        """On the first connection, learn the meter's last record number without passing
        the record on: records already stored belong to earlier patients."""
        if self._last_sequence is not None:
            return
        self._learning_sequence = True
        try:
            response = await procedure.run(racp.last_record())
        finally:
            self._learning_sequence = False
        if (
            isinstance(response, racp.ResponseCode)
            and response.value is racp.ResponseValue.NO_RECORDS_FOUND
        ):
            self._last_sequence = 0

    # -- values from the instrument ------------------------------------------------

    def _on_value(self, char: HasUuid, data: bytearray) -> None:
        """bleak's notification callback: whatever arrives, the link keeps running."""
        self._tap("notify", char.uuid, data)
        try:
            self._handle_value(char.uuid, bytes(data))
        except Exception:
            log.exception("%s: failed to handle a value from the instrument", self.settings.name)
            self._report("error", "valeur reçue non traitée")

    def _handle_value(self, uuid: str, value: bytes) -> None:
        if uuid == profiles.RECORD_ACCESS_CONTROL_POINT:
            if self._racp is not None:
                self._racp.on_indication(value)
            return
        if uuid == profiles.BATTERY_LEVEL:
            self._battery = self._battery_percent(value)
            self._report(self._idle_state() if not self._measuring else "measuring", None)
            return
        if uuid == profiles.GLUCOSE_MEASUREMENT and self._note_sequence(value):
            return
        self._decode_and_forward(uuid, value)

    def _note_sequence(self, value: bytes) -> bool:
        """Track glucose record numbers; True if this record must not be passed on."""
        number = racp.glucose_sequence_number(value)
        if number is not None and (self._last_sequence is None or number > self._last_sequence):
            self._last_sequence = number
        return self._learning_sequence

    def _decode_and_forward(self, uuid: str, value: bytes) -> None:
        short = gatt.parse_uuid(uuid)
        try:
            decoded = gatt.decode(short, value, self.quirks)
        except DecodeError:
            # The value may hold patient data: log where it came from, not what it was.
            log.warning(
                "%s: undecodable value on 0x%04X (%d bytes)", self.settings.name, short, len(value)
            )
            self._report("error", f"valeur illisible reçue (0x{short:04X})")
            return
        except ValueError:
            log.warning("%s: no decoder for 0x%04X", self.settings.name, short)
            return
        if not isinstance(decoded, Measurement) or self._sink is None:
            return
        intermediate = decoded.intermediate  # cuff pressure, temperature while measuring
        if intermediate and not self._measuring:
            self._measuring = True
            self._report("measuring", "mesure en cours")
        self._sink.measurement(decoded)
        if not intermediate:
            self._measuring = False
            self._report(self._idle_state(), "mesure reçue")

    def _battery_percent(self, value: bytes | bytearray) -> int | None:
        try:
            level = gatt.decode(gatt.BATTERY_LEVEL, bytes(value), self.quirks)
        except ValueError:  # DecodeError included
            log.warning("%s: invalid battery level (%d bytes)", self.settings.name, len(value))
            return self._battery
        return level if isinstance(level, int) else self._battery

    def _idle_state(self) -> InstrumentState:
        if self._battery is not None and self._battery <= LOW_BATTERY_PERCENT:
            return "low_battery"
        return "ready"

    def _report(self, state: InstrumentState, detail: str | None) -> None:
        """Tell the sink, if anything changed (detail None: keep the current one)."""
        if self._sink is None:
            return
        if detail is None:
            detail = self._reported[1] if self._reported else ""
        current = (state, detail, self._battery)
        if current != self._reported:
            self._reported = current
            self._sink.state(state, detail, self._battery)
