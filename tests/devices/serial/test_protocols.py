"""Serial framers and decoders: commands, round trips, garbage (the vectors from public
sources are in test_vectors.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.measurement import DecodeError, Measurement
from devices.serialproto import (
    PROTOCOLS,
    BodyReading,
    OximeterReading,
    contec,
    nonin,
    protocol,
    tanita,
)


def values(m: Measurement) -> dict[str, Decimal | None]:
    return {o.code: o.value for o in m.observations}


def frames_of(name: str, data: bytes) -> list[bytes]:
    return PROTOCOLS[name].framer().feed(data)


# -- commands and the table ---------------------------------------------------------
# (vectors of each format from public sources: test_vectors.py)


def test_contec_commands() -> None:
    # As sent to a CMS50D+ in github.com/headrotor/art-sensors spO2/stream_data.py
    # (start: "7D 81 A1 ...", keep-alive: "7d 81 af ..."); stop per Contec V7.0 table 7.
    assert bytes.fromhex("7D81A1808080808080") == contec.START_LIVE
    assert bytes.fromhex("7D81A2808080808080") == contec.STOP_LIVE
    assert bytes.fromhex("7D81AF808080808080") == contec.KEEP_ALIVE


def test_contec_high_pulse_uses_the_high_bit() -> None:
    frame = contec.encode(OximeterReading(spo2=99, pulse=200))
    assert all(b & 0x80 for b in frame[1:]) and frame[1] & 0x08  # pulse is data byte 3
    assert values(contec.decode(frame))["8867-4"] == 200


def test_nonin_format_selection_command() -> None:
    # Nonin 9560 specification, "Selecting the Data Format": 02 70 02 02 <format> 03.
    assert nonin.select_format(8) == bytes.fromhex("027002020803")
    assert nonin.parse_select_format(bytes.fromhex("027002020D03")) == 13
    assert nonin.parse_select_format(b"\x02\x70\x02\x02\x08\x04") is None


def test_protocol_table() -> None:
    assert protocol("contec-v7") is PROTOCOLS["contec-cms50d"]
    assert protocol("tanita-sc330") is protocol("tanita-mc780") is PROTOCOLS["tanita-kv"]
    assert PROTOCOLS["tanita-tbf310"].line_settings == "2400 7E1"
    assert PROTOCOLS["tanita-bc418"].line_settings == "4800 8N1"
    assert PROTOCOLS["nonin-df8"].on_connect == (nonin.select_format(8),)
    unconfirmed = {name for name, p in PROTOCOLS.items() if p.unconfirmed}
    assert unconfirmed == {"tanita-bc418"}
    with pytest.raises(KeyError, match="known: "):
        protocol("nope")


# -- properties ------------------------------------------------------------------------

OXIMETER_FLAGS = {
    "contec-cms50d": ["finger_out", "searching", "searching_too_long"],
    "contec-legacy": ["finger_out", "searching", "searching_too_long", "spo2_dropping"],
    "nonin-df8": ["out_of_track", "artifact", "low_perfusion", "smartpoint", "sensor_alarm",
                  "low_battery"],
    "nonin-df2": ["sensor_disconnected", "artifact", "out_of_track", "sensor_alarm",
                  "smartpoint", "low_battery"],
    "nonin-df13": ["smartpoint", "no_measurement", "from_memory", "low_battery"],
}  # fmt: skip
minutes = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
    lambda t: t.replace(second=0, microsecond=0)
)
hundredths = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
    lambda t: t.replace(microsecond=t.microsecond // 10_000 * 10_000)
)


@st.composite
def oximeter_readings(draw: st.DrawFn, name: str) -> OximeterReading:
    pi = None
    if name == "contec-cms50d":
        pi = draw(st.none() | st.integers(0, 2200).map(lambda n: Decimal(n) / 100))
    return OximeterReading(
        spo2=draw(st.none() | st.integers(0, 100)),
        pulse=draw(st.none() | st.integers(0, 254)),
        pleth=draw(st.integers(0, 127)) if name.startswith("contec") else 0,
        flags=frozenset(draw(st.sets(st.sampled_from(OXIMETER_FLAGS[name])))),
        timestamp=draw(st.none() | hundredths) if name == "nonin-df13" else None,
        perfusion_index=pi,
    )


@st.composite
def body_readings(draw: st.DrawFn, name: str) -> BodyReading:
    weight = Decimal(draw(st.integers(1, 2999))) / 10
    fat = Decimal(draw(st.integers(0, 750))) / 10
    height = Decimal(draw(st.integers(1000, 2200))) / 10
    reading = tanita.body_reading(weight, fat, height)
    if name == "tanita-bc418":  # its line always carries the scale's clock
        return dataclasses.replace(reading, timestamp=draw(minutes))
    if name == "tanita-kv":
        return dataclasses.replace(reading, timestamp=draw(st.none() | minutes))
    return reading


def readings_for(name: str) -> st.SearchStrategy[OximeterReading | BodyReading]:
    if name.startswith("tanita"):
        return body_readings(name)
    return oximeter_readings(name)


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
@settings(max_examples=60, deadline=None)
@given(data=st.data(), chunk=st.integers(1, 40))
def test_round_trip_through_the_framer(name: str, data: st.DataObject, chunk: int) -> None:
    proto = PROTOCOLS[name]
    reading = data.draw(st.lists(readings_for(name), min_size=1, max_size=4))
    stream = b"".join(proto.encode(r) for r in reading)
    framer = proto.framer()
    frames: list[bytes] = []
    for i in range(0, len(stream), chunk):
        frames += framer.feed(stream[i : i + chunk])
    assert [proto.decode(f) for f in frames] == [r.measurement() for r in reading]
    assert framer.skipped == 0 and framer.bad_checksums == 0


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
@settings(max_examples=150, deadline=None)
@given(noise=st.binary(max_size=300))
def test_random_bytes_only_ever_raise_decode_error(name: str, noise: bytes) -> None:
    proto = PROTOCOLS[name]
    for frame in proto.framer().feed(noise):
        with contextlib.suppress(DecodeError):
            proto.decode(frame)
    with contextlib.suppress(DecodeError):
        proto.decode(noise)


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
@settings(max_examples=40, deadline=None)
@given(noise=st.binary(max_size=60), data=st.data())
def test_the_framer_resyncs_after_garbage(name: str, noise: bytes, data: st.DataObject) -> None:
    proto = PROTOCOLS[name]
    reading = data.draw(readings_for(name))
    frame = proto.encode(reading)
    # Garbage ends with a line break / a sync so the frame after it starts clean, as
    # after a real burst of noise once the device's next frame begins.
    framer = proto.framer()
    framer.feed(noise + b"\n")
    decoded = []
    for f in framer.feed(frame + frame):
        with contextlib.suppress(DecodeError):
            decoded.append(proto.decode(f))
    assert decoded[-1] == reading.measurement()


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
@settings(max_examples=40, deadline=None)
@given(stream=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_how_the_stream_is_cut_does_not_change_the_frames(
    name: str, stream: bytes, cuts: list[int]
) -> None:
    proto = PROTOCOLS[name]
    whole = proto.framer()
    expected = whole.feed(stream)
    pieces = proto.framer()
    got: list[bytes] = []
    bounds = [0, *sorted(c for c in cuts if c <= len(stream)), len(stream)]
    for start, end in itertools.pairwise(bounds):
        got += pieces.feed(stream[start:end])
    assert got == expected and pieces.skipped == whole.skipped
