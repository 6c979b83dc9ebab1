"""Door-lock drivers. The serial relay driver runs against a relay board simulator on a
pseudo-terminal and must send the exact command bytes. No gpio-sim kernel module exists on
this machine, so the GPIO driver's level logic is tested through the simulated driver
(output_level is shared by every driver) and its factory wiring only."""

from __future__ import annotations

import asyncio
import os
import tty
from collections.abc import Iterator

import pytest

from hygiene.config import LockSettings
from hygiene.errors import LockError
from hygiene.lock import LockState, make_lock, output_level
from hygiene.lock.gpio import GpioLock
from hygiene.lock.relay import SerialRelayLock, relay_command
from hygiene.lock.simulated import SimulatedLock
from kiosk.lifecycle import State

from .conftest import REFERENT_PIN, Cabin, MakeCabin

# The board simulator reads what the driver wrote; a write reaches the pty at once.
READ_TIMEOUT_S = 5.0


class RelayBoardSimulator:
    """The board's side of a pty pair: collects the bytes the driver sends."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        self.port = os.ttyname(self.slave)
        self.received = bytearray()

    async def read(self, n: int) -> bytes:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(READ_TIMEOUT_S):
            while len(self.received) < n:
                ready = asyncio.Event()
                loop.add_reader(self.master, ready.set)
                try:
                    await ready.wait()
                finally:
                    loop.remove_reader(self.master)
                self.received += os.read(self.master, 64)
        out, self.received = bytes(self.received[:n]), self.received[n:]
        return out

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def board() -> Iterator[RelayBoardSimulator]:
    sim = RelayBoardSimulator()
    yield sim
    sim.close()


def test_relay_command_bytes() -> None:
    assert relay_command(1, True) == bytes.fromhex("A00101A2")
    assert relay_command(1, False) == bytes.fromhex("A00100A1")
    assert relay_command(2, True) == bytes.fromhex("A00201A3")
    assert relay_command(4, False) == bytes.fromhex("A00400A4")
    with pytest.raises(ValueError, match="channel"):
        relay_command(0, True)


@pytest.mark.parametrize(
    ("fail_mode", "engage_bytes", "release_bytes"),
    [("fail_safe", "A00101A2", "A00100A1"), ("fail_secure", "A00100A1", "A00101A2")],
)
async def test_relay_driver_sends_exact_bytes(
    board: RelayBoardSimulator, fail_mode: str, engage_bytes: str, release_bytes: str
) -> None:
    lock = SerialRelayLock(board.port, 1, fail_mode)  # type: ignore[arg-type]
    await lock.open()
    try:
        await lock.engage()
        assert await board.read(4) == bytes.fromhex(engage_bytes)
        assert lock.state is LockState.ENGAGED
        await lock.release()
        assert await board.read(4) == bytes.fromhex(release_bytes)
        assert lock.state is LockState.RELEASED
    finally:
        await lock.close()


async def test_relay_on_a_missing_port_is_a_lock_error() -> None:
    lock = SerialRelayLock("/dev/does-not-exist", 1, "fail_safe")
    with pytest.raises(LockError, match="does-not-exist"):
        await lock.engage()
    assert lock.state is LockState.UNKNOWN


async def test_component_drives_the_relay_through_the_flow(
    make_cabin: MakeCabin, board: RelayBoardSimulator
) -> None:
    extra = f'\n[hygiene.lock]\ndriver = "serial_relay"\nport = "{board.port}"\nchannel = 1\n'
    cabin: Cabin = await make_cabin(extra=extra, lock_from_config=True)
    assert isinstance(cabin.lock, SerialRelayLock)
    assert await board.read(4) == bytes.fromhex("A00100A1")  # idle at start: released
    cabin.patient_session()
    assert await board.read(4) == bytes.fromhex("A00101A2")  # session over: engaged
    code, _ = await cabin.call("POST", "/api/hygiene/login", {"pin": REFERENT_PIN})
    assert code == 200
    _, doc = await cabin.call("GET", "/api/hygiene/checklist")
    for step in doc["steps"]:
        await cabin.call("POST", f"/api/hygiene/steps/{step['id']}/start")
    cabin.clock.advance(60)
    for step in doc["steps"]:
        await cabin.call("POST", f"/api/hygiene/steps/{step['id']}/confirm")
    assert board.received == b""  # nothing sent while cleaning: still engaged
    assert (await cabin.call("POST", "/api/hygiene/finish"))[0] == 200
    assert cabin.lifecycle.state is State.IDLE
    assert await board.read(4) == bytes.fromhex("A00100A1")  # released after the commit


@pytest.mark.parametrize(
    ("fail_mode", "engaged_level"), [("fail_safe", True), ("fail_secure", False)]
)
async def test_fail_mode_decides_the_level(fail_mode: str, engaged_level: bool) -> None:
    assert output_level(True, fail_mode) is engaged_level  # type: ignore[arg-type]
    assert output_level(False, fail_mode) is (not engaged_level)  # type: ignore[arg-type]
    lock = SimulatedLock(fail_mode)  # type: ignore[arg-type]
    await lock.engage()
    await lock.release()
    assert lock.levels == [engaged_level, not engaged_level]


def test_factory_chooses_by_configuration() -> None:
    assert isinstance(make_lock(LockSettings()), SimulatedLock)
    relay = make_lock(LockSettings(driver="serial_relay", port="/dev/ttyUSB0", channel=2))
    assert isinstance(relay, SerialRelayLock) and relay.channel == 2
    gpio = make_lock(LockSettings(driver="gpio", gpio_line=17, fail_mode="fail_secure"))
    assert isinstance(gpio, GpioLock) and gpio.line == 17 and gpio.fail_mode == "fail_secure"
    with pytest.raises(ValueError, match="needs 'port'"):
        LockSettings(driver="serial_relay")
    with pytest.raises(ValueError, match="needs 'gpio_line'"):
        LockSettings(driver="gpio")


async def test_gpio_without_a_chip_is_a_lock_error() -> None:
    lock = GpioLock("/dev/gpiochip-missing", 3, "fail_safe")
    with pytest.raises(LockError):
        await lock.engage()


async def test_failed_lock_shows_unknown_and_is_retried(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    failing = {"on": True}
    original = cabin.lock._set_level

    async def flaky(level: bool) -> None:
        if failing["on"]:
            raise LockError("relay board unplugged")
        await original(level)

    cabin.lock._set_level = flaky
    cabin.patient_session()
    await cabin.component.apply_lock()
    assert cabin.component.status()["lock"] == "unknown"
    failing["on"] = False
    await cabin.component.apply_lock()
    assert cabin.component.status()["lock"] == "engaged"


async def test_a_driver_bug_does_not_stop_the_lock_following(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    broken = {"on": True}
    original = cabin.lock._set_level

    async def buggy(level: bool) -> None:
        if broken["on"]:
            raise RuntimeError("driver bug")
        await original(level)

    cabin.lock._set_level = buggy
    cabin.patient_session()  # the follower tries to engage and hits the bug
    follower = cabin.component._tasks[0]
    async with asyncio.timeout(5):
        while cabin.lock.state is not LockState.UNKNOWN:  # noqa: ASYNC110 - bounded poll
            await asyncio.sleep(0.01)
    assert not follower.done()
    broken["on"] = False
    cabin.lifecycle.transition(State.CLEANING, "test")  # next change: engaged again
    async with asyncio.timeout(5):
        while cabin.lock.state is not LockState.ENGAGED:  # noqa: ASYNC110 - bounded poll
            await asyncio.sleep(0.01)
