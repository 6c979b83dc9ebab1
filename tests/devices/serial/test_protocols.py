"""Serial framers and decoders: vectors as seen on the wire, round trips, garbage."""

from __future__ import annotations

import contextlib
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


# -- vectors ---------------------------------------------------------------------------


def test_contec_live_packet_as_captured() -> None:
    # A CMS50D+ live packet from a capture: HB E0 = bit 7 set on the two trailing FFs.
    frame = bytes.fromhex("01E085B396C1E1FFFF")
    m = contec.decode(frame)
    assert values(m) == {"59408-5": Decimal(97), "8867-4": Decimal(65)}
    assert m.kind == "spo2" and m.status == () and not m.intermediate
    assert [o.unit for o in m.observations] == ["%", "/min"]


def test_contec_commands() -> None:
    assert bytes.fromhex("7D81A1808080808080") == contec.START_LIVE
    assert bytes.fromhex("7D81A2808080808080") == contec.STOP_LIVE
    assert bytes.fromhex("7D81AF808080808080") == contec.KEEP_ALIVE


def test_contec_searching_packet_has_no_values() -> None:
    frame = contec.encode(OximeterReading(None, None, 3, frozenset({"searching", "finger_out"})))
    m = contec.decode(frame)
    assert values(m) == {"59408-5": None, "8867-4": None}
    assert m.status == ("finger_out", "searching") and m.intermediate


def test_contec_high_pulse_uses_the_high_bit() -> None:
    frame = contec.encode(OximeterReading(spo2=99, pulse=200))
    assert all(b & 0x80 for b in frame[1:]) and frame[1] & 0x08  # pulse is data byte 3
    assert values(contec.decode(frame))["8867-4"] == 200


def test_contec_legacy_frame() -> None:
    # sync + signal 5 | pleth 0x40 | bar 5, PR bit 7 set | PR low 0x08 | SpO2 98
    m = contec.legacy_decode(bytes([0x85, 0x40, 0x45, 0x08, 98]))
    assert values(m) == {"59408-5": Decimal(98), "8867-4": Decimal(136)}
    m = contec.legacy_decode(bytes([0x85, 0x40, 0x35, 0x7F, 0x7F]))
    assert m.status == ("finger_out", "searching") and values(m)["59408-5"] is None


def test_nonin_df8_frame() -> None:
    # status: sync + artifact; HR 72 = MSB 0, LSB 72; SpO2 97
    m = nonin.df8_decode(bytes([0x84, 0x00, 72, 97]))
    assert values(m) == {"59408-5": Decimal(97), "8867-4": Decimal(72)}
    assert m.status == ("artifact",)
    # HR 300 = MSB 2 (bits 7-8), LSB 44; SpO2 missing; sensor disconnected
    m = nonin.df8_decode(bytes([0xC0, 0x02, 44, 127]))
    assert values(m) == {"59408-5": None, "8867-4": Decimal(300)}
    assert nonin.df8_decode(bytes([0x80, 0x03, 0x7F, 127])).observations[1].value is None


def test_nonin_df2_packet() -> None:
    packet = nonin.df2_encode(OximeterReading(95, 130, 77, frozenset({"marginal_perfusion"})))
    assert len(packet) == 125 and packet[:2] == bytes([0x01, 0x87])
    assert packet[4] == (0x01 + 0x87 + 77 + 1) & 0xFF  # HR MSB = 1 (130 = 1 << 7 | 2)
    m = nonin.df2_decode(packet)
    assert values(m) == {"59408-5": Decimal(95), "8867-4": Decimal(130)}
    assert m.status == ("marginal_perfusion",)


def test_nonin_df2_bad_checksum_is_an_error_and_the_framer_skips_the_packet() -> None:
    good = nonin.df2_encode(OximeterReading(97, 70))
    bad = bytearray(good)
    bad[3 * 5 + 4] ^= 0xFF  # checksum of frame 4
    with pytest.raises(DecodeError, match="checksum"):
        nonin.df2_decode(bytes(bad))
    framer = nonin.df2_framer()
    frames = framer.feed(bytes(bad) + good)
    assert frames == [good]
    assert framer.bad_checksums == 1 and framer.skipped > 0


def test_nonin_df13_line() -> None:
    m = nonin.df13_decode(b"23-Nov-26 10:42:05 SPO2=097 HR=072 ARTF")
    assert values(m) == {"59408-5": Decimal(97), "8867-4": Decimal(72)}
    assert m.timestamp == datetime(2026, 11, 23, 10, 42, 5) and m.status == ("artifact",)
    assert values(nonin.df13_decode(b"SPO2=--- HR=---"))["8867-4"] is None
    with pytest.raises(DecodeError, match="status word"):
        nonin.df13_decode(b"SPO2=097 HR=072 WHAT")


def test_nonin_format_selection_command() -> None:
    assert nonin.select_format(8) == bytes.fromhex("027002020803")
    assert nonin.parse_select_format(bytes.fromhex("027002020D03")) == 13
    assert nonin.parse_select_format(b"\x02\x70\x02\x02\x08\x04") is None


def test_tanita_tbf310_line() -> None:
    m = tanita.tbf310_decode(b"0,2,165.0,60.5,512,25.4,15.4,45.1,33.0\r\n")
    assert values(m) == {
        "29463-7": Decimal("60.5"),
        "41982-0": Decimal("25.4"),
        "8302-2": Decimal("165.0"),
        "39156-5": Decimal("22.2"),
    }
    assert m.kind == "body_composition"
    with pytest.raises(DecodeError, match="weight"):
        tanita.tbf310_decode(b"0,2,165.0,960.5,512,25.4,15.4,45.1,33.0")
    with pytest.raises(DecodeError, match="9 fields"):
        tanita.tbf310_decode(b"0,2,165.0,60.5")


def test_tanita_bc418_line_and_checksum() -> None:
    reading = BodyReading(
        Decimal("68.4"),
        Decimal("21.7"),
        Decimal("170.0"),
        Decimal("23.7"),
        datetime(2026, 11, 23, 10, 42),
    )
    line = tanita.bc418_encode(reading)
    assert line.startswith(b'{0,16,~0,1,~1,1,~2,1,MO,"BC-418",DT,"23/11/2026",Ti,"10:42"')
    assert tanita.bc418_decode(line) == reading.measurement()
    tampered = line.replace(b"Wk,68.4", b"Wk,78.4")
    with pytest.raises(DecodeError, match="checksum"):
        tanita.bc418_decode(tampered)


def test_protocol_table() -> None:
    assert protocol("contec-v7") is PROTOCOLS["contec-cms50d"]
    assert PROTOCOLS["tanita-tbf310"].line_settings == "2400 7O1"
    assert PROTOCOLS["nonin-df8"].on_connect == (nonin.select_format(8),)
    with pytest.raises(KeyError, match="known: "):
        protocol("nope")


# -- properties ------------------------------------------------------------------------

OXIMETER_FLAGS = {
    "contec-cms50d": ["finger_out", "searching", "searching_too_long"],
    "contec-legacy": ["finger_out", "searching", "searching_too_long", "spo2_dropping"],
    "nonin-df8": ["sensor_disconnected", "out_of_track", "artifact", "low_perfusion"],
    "nonin-df2": ["sensor_disconnected", "artifact", "out_of_track", "sensor_alarm"],
    "nonin-df13": ["sensor_disconnected", "artifact", "low_perfusion", "marginal_perfusion"],
}


@st.composite
def oximeter_readings(draw: st.DrawFn, name: str) -> OximeterReading:
    return OximeterReading(
        spo2=draw(st.none() | st.integers(0, 100)),
        pulse=draw(st.none() | st.integers(0, 254)),
        pleth=draw(st.integers(0, 127)) if name.startswith("contec") else 0,
        flags=frozenset(draw(st.sets(st.sampled_from(OXIMETER_FLAGS[name])))),
    )


@st.composite
def body_readings(draw: st.DrawFn) -> BodyReading:
    weight = Decimal(draw(st.integers(1, 2999))) / 10
    fat = Decimal(draw(st.integers(0, 750))) / 10
    height = Decimal(draw(st.integers(1000, 2200))) / 10
    return tanita.body_reading(weight, fat, height)


def readings_for(name: str) -> st.SearchStrategy[OximeterReading | BodyReading]:
    if name.startswith("tanita"):
        return body_readings()
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
