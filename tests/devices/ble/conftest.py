"""A private D-Bus bus with bluezoo (a BlueZ mock) on it, two adapters: hci0 for the cabin,
hci1 for the simulated instruments. bleak's real BlueZ backend talks to it through
DBUS_SYSTEM_BUS_ADDRESS."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

from devices.config import InstrumentKind
from devices.sim.ble_peripheral import SimulatedBlePeripheral
from tests.polling import until

HERE = Path(__file__).parent
CABIN_ADAPTER = "hci0"
CABIN_ADDRESS = "00:1A:7D:DA:71:01"
PERIPHERAL_ADDRESS = "00:1A:7D:DA:71:02"
STARTUP_TIMEOUT_S = 15.0


async def poll(condition: Callable[[], Any], limit_s: float = 10.0) -> Any:
    """Wait until ``condition()`` (or the coroutine it returns) is truthy, checked every
    20 ms, at most ``limit_s``."""
    return await until(condition, limit_s)


async def bluez_call(
    bus_address: str,
    path: str,
    interface: str,
    member: str,
    *,
    signature: str = "",
    body: list[Any] | None = None,
) -> Message | None:
    """One method call to BlueZ (bluezoo) on the test's system bus; its reply."""
    bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM).connect()
    try:
        return await bus.call(
            Message(
                destination="org.bluez",
                path=path,
                interface=interface,
                member=member,
                signature=signature,
                body=body or [],
            )
        )
    finally:
        await close_bus(bus)


async def bluez_property(bus_address: str, path: str, interface: str, name: str) -> Message | None:
    """The reply to Properties.Get of ``interface``'s ``name`` on ``path``."""
    return await bluez_call(
        bus_address,
        path,
        "org.freedesktop.DBus.Properties",
        "Get",
        signature="ss",
        body=[interface, name],
    )


async def cabin_adapter_discovering(bus_address: str) -> bool:
    reply = await bluez_property(
        bus_address, f"/org/bluez/{CABIN_ADAPTER}", "org.bluez.Adapter1", "Discovering"
    )
    return (
        reply is not None
        and reply.message_type == MessageType.METHOD_RETURN
        and (reply.body[0].value is True)
    )


async def close_bus(bus: MessageBus) -> None:
    """Disconnect and wait until dbus-fast has closed the socket."""
    bus.disconnect()
    async with asyncio.timeout(5):
        await bus.wait_for_disconnect()


@pytest.fixture(scope="session")
def private_bus() -> Iterator[str]:
    """``dbus-daemon`` on a temporary socket, allowing everything; yields its address."""
    proc = subprocess.Popen(
        [
            "dbus-daemon",
            f"--config-file={HERE / 'dbus-test.conf'}",
            "--nofork",
            "--print-address=1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    if not address:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        raise RuntimeError("dbus-daemon did not start")
    yield address
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


async def _adapters(address: str) -> set[str]:
    bus = await MessageBus(bus_address=address, bus_type=BusType.SYSTEM).connect()
    try:
        reply = await bus.call(
            Message(
                destination="org.bluez",
                path="/",
                interface="org.freedesktop.DBus.ObjectManager",
                member="GetManagedObjects",
            )
        )
    finally:
        await close_bus(bus)
    if reply is None or reply.message_type == MessageType.ERROR:
        return set()
    objects: dict[str, dict[str, Any]] = reply.body[0]
    return {
        p
        for p, ifaces in objects.items()
        if "org.bluez.Adapter1" in ifaces and ifaces["org.bluez.Adapter1"]["Powered"].value
    }


@pytest.fixture
async def bluez(
    private_bus: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[str]:
    """bluezoo on the private bus with two powered adapters; yields the bus address."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus)
    log_file = (tmp_path / "bluezoo.log").open("w")
    proc = await asyncio.create_subprocess_exec(
        *[
            sys.executable,
            str(HERE / "bluezoo_patched.py"),
            "--auto-enable",
            "--scan-interval",
            "1",
            "-a",
            CABIN_ADDRESS,
            "-a",
            PERIPHERAL_ADDRESS,
        ],
        env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": private_bus},
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while await _adapters(private_bus) != {"/org/bluez/hci0", "/org/bluez/hci1"}:
                if proc.returncode is not None:
                    raise RuntimeError("bluezoo exited: see " + str(tmp_path / "bluezoo.log"))
                await asyncio.sleep(0.05)
        yield private_bus
        await _close_bleak_manager()
    finally:
        proc.terminate()
        async with asyncio.timeout(10):
            await proc.wait()
        log_file.close()


async def _close_bleak_manager() -> None:
    """bleak keeps one BlueZ manager per event loop with a task watching its bus; close
    it so the test loop ends without a leftover task."""
    from bleak.backends.bluezdbus import manager

    instance = manager._global_instances.pop(asyncio.get_running_loop(), None)
    if instance is None or instance._bus is None:
        return
    watcher = instance._bus_watcher_task
    instance._bus.disconnect()
    if watcher is not None:
        await asyncio.wait({watcher}, timeout=5)


@pytest.fixture
async def make_peripheral(bluez: str) -> AsyncIterator[Callable[..., Any]]:
    """``await make_peripheral(kind)``: a started simulated instrument on hci1."""
    started: list[SimulatedBlePeripheral] = []

    async def make(kind: InstrumentKind, **kwargs: Any) -> SimulatedBlePeripheral:
        peripheral = SimulatedBlePeripheral(kind, adapter="hci1", **kwargs)
        started.append(peripheral)
        await peripheral.start()
        return peripheral

    yield make
    for peripheral in started:
        await peripheral.stop()
