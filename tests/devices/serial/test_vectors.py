"""Each serial format against what the real device sends, from sources outside this
project (vendor documents, published drivers, recorded captures), cited next to each
vector with the decoded values that source gives. None of these bytes comes from our
own encoders or simulators."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from devices.measurement import DecodeError, Measurement
from devices.serialproto import PROTOCOLS, contec, nonin, nonin_spot, tanita, tanita_kv

SPO2, PULSE, PI = "59408-5", "8867-4", "61006-3"
WEIGHT, FAT, HEIGHT, BMI = "29463-7", "41982-0", "8302-2", "39156-5"


def values(m: Measurement) -> dict[str, Decimal | None]:
    return {o.code: o.value for o in m.observations}


# -- Contec CMS50D+, current protocol -------------------------------------------------

# Captured from a CMS50D+ after "7D 81 A1 ..." in github.com/headrotor/art-sensors,
# spO2/stream_data.py; that script prints pulse = byte 6 & 0x7F and SpO2 = byte 7 & 0x7F
# (65 /min and 97 % for all of them).
HEADROTOR_CAPTURE = [
    "01 E0 85 B3 96 C1 E1 FF FF",
    "01 E0 85 B0 96 C1 E1 FF FF",
    "01 E0 85 AE 95 C1 E1 FF FF",
    "01 E0 85 AC 95 C1 E1 FF FF",
    "01 E0 85 AB 95 C1 E1 FF FF",
    "01 E0 85 AA 95 C1 E1 FF FF",
]


@pytest.mark.parametrize("packet", HEADROTOR_CAPTURE)
def test_contec_live_packets_as_captured(packet: str) -> None:
    m = contec.decode(bytes.fromhex(packet))
    assert values(m) == {SPO2: Decimal(97), PULSE: Decimal(65)}
    # bar byte 0x16/0x15: bit 4 set, "PI data is invalid" (Contec V7.0, table 3), and the
    # PI bytes are FF FF: no perfusion index observation.
    assert m.kind == "spo2" and m.status == () and not m.intermediate


def test_contec_captured_stream_through_the_framer() -> None:
    stream = bytes.fromhex("".join(HEADROTOR_CAPTURE).replace(" ", ""))
    framer = PROTOCOLS["contec-cms50d"].framer()
    frames = framer.feed(stream[3:])  # joined in the middle of the first packet
    assert [values(contec.decode(f)) for f in frames] == [{SPO2: 97, PULSE: 65}] * 5
    assert framer.skipped == 6


# Contec "Communication protocol of pulse oximeter V7.0", table 3 (published as
# "Communication protocol of pulse oximeter V7.0.pdf" in github.com/albertcbraun/CMS50FW):
# "If probe errors, show Finger Out and pulse waveform data is 0x40"; "If data or probe
# errors, pulse rate is 0xFF, and SpO2 is 0x7F, and PI is 0xFFFF". Status 0x80 (bit 7,
# probe error), pleth 0x40, bar 0x10 (PI invalid), FF, 7F, FF FF; high byte E9.
def test_contec_probe_error_is_finger_out() -> None:
    m = contec.decode(bytes.fromhex("01 E9 80 C0 90 FF FF FF FF"))
    assert m.status == ("finger_out",) and values(m) == {SPO2: None, PULSE: None}
    assert m.intermediate


# Same table: bit 7 of the pleth byte is "searching pulse", bit 4 of the status byte
# "searching time is too long". Status 0x13 (signal 3, too long), pleth 0xA5 (searching,
# waveform 0x25), bar 0x12, FF, 7F, FF FF.
def test_contec_searching_flags_as_the_specification_places_them() -> None:
    m = contec.decode(bytes.fromhex("01 EA 93 A5 92 FF FF FF FF"))
    assert m.status == ("searching", "searching_too_long")
    assert values(m) == {SPO2: None, PULSE: None}


# Same table: bytes 8-9 are Low-PI and High-PI, "PI here is 100 times the real value",
# valid when bit 4 of byte 5 is 0. 0x0123 = 291 -> 2.91 %.
def test_contec_perfusion_index() -> None:
    m = contec.decode(bytes.fromhex("01 80 85 B3 86 C1 E1 A3 81"))
    assert values(m) == {SPO2: 97, PULSE: 65, PI: Decimal("2.91")}
    with pytest.raises(DecodeError, match="perfusion index"):
        contec.decode(bytes.fromhex("01 A0 85 B3 86 C1 E1 FF 90"))  # 0x10FF: 43.51 %


# -- Contec legacy 5-byte stream --------------------------------------------------------


# github.com/atbrask/CMS50Dplus unittests.py: pulse rate 200 = [0x80, 0, 0x40, 0x48, 0]
# (high bit in bit 6 of byte 3), SpO2 = byte 5, "searching" = 0x20 and "probe error"
# = 0x10 in byte 3, "dropping SpO2" = 0x20 in byte 1 (atbrask's names; the probe error is
# what the device shows as finger out, and atbrask's "finger out" bit 0x10 of byte 1 is
# what the V7.0 specification calls "searching time is too long").
@pytest.mark.parametrize(
    ("frame", "spo2", "pulse", "status"),
    [
        ([0x80, 0, 0x40, 0x48, 0], 0, 200, ()),
        ([0x80, 0, 0, 0, 97], 97, 0, ()),
        ([0x80, 0, 0x20, 0, 0], 0, 0, ("searching",)),
        ([0x80, 0, 0x10, 0, 0], 0, 0, ("finger_out",)),
        ([0x80 | 0x20, 0, 0, 0, 0], 0, 0, ("spo2_dropping",)),
        ([0x80 | 0x10, 0, 0, 0, 0], 0, 0, ("searching_too_long",)),
    ],
)
def test_contec_legacy_frames(frame: list[int], spo2: int, pulse: int, status: tuple[str]) -> None:
    m = contec.legacy_decode(bytes(frame))
    assert values(m) == {SPO2: spo2, PULSE: pulse} and m.status == status


def test_contec_legacy_refuses_a_frame_without_its_sync_bit() -> None:
    # atbrask: ValueError for [0, 0, 0, 0, 0] and for a sync bit on any other byte.
    with pytest.raises(DecodeError, match="sync bit"):
        contec.legacy_decode(bytes([0, 0x80, 0, 0, 0]))


# -- Nonin data format 8 ----------------------------------------------------------------


# Nonin "Onyx II Model 9560 ... OEM Specification" (6470-000-01), "Serial Data Format #8"
# (the PDF in github.com/mattjlewis/NoninPulseOx; io/DataFormat8Serialiser.java reads it
# the same way): status 1 (bit 7 set, OOT 0x20, LPRF 0x10, MPRF 0x08, ARTF 0x04, HR bits
# 8-7), HR LSB, SpO2, status 2 (SPA 0x20, SNSA 0x08, LOW BAT 0x01); HR 511 and SpO2 127
# are the missing-data values. The bytes are built field by field from that table.
@pytest.mark.parametrize(
    ("frame", "spo2", "pulse", "status"),
    [
        ("84 48 61 20", 97, 72, ("artifact", "smartpoint")),  # HR 72, SpO2 97
        ("82 2C 5F 00", 95, 300, ()),  # HR 300 = 2 << 7 | 44
        ("A3 7F 7F 09", None, None, ("low_battery", "out_of_track", "sensor_alarm")),
    ],
)
def test_nonin_df8(frame: str, spo2: int | None, pulse: int | None, status: tuple[str]) -> None:
    m = nonin.df8_decode(bytes.fromhex(frame))
    assert values(m) == {SPO2: spo2, PULSE: pulse} and m.status == status


def test_nonin_df8_refuses_out_of_range_values() -> None:
    with pytest.raises(DecodeError, match="above 100"):
        nonin.df8_decode(bytes.fromhex("80 48 65 00"))  # SpO2 101
    with pytest.raises(DecodeError, match="heart rate 330"):
        nonin.df8_decode(bytes.fromhex("82 4A 61 00"))  # HR 330 (range 18-321)
    with pytest.raises(DecodeError, match="4 bytes"):
        nonin.df8_decode(bytes.fromhex("84 48 61"))


# -- Nonin data format 2 ----------------------------------------------------------------

# A format 2 stream from a 9560, quoted in github.com/mattjlewis/NoninPulseOx,
# io/DataFormat2FrameSerialiser.java ("Example: 01804900CA ..."). It starts in the middle
# of a packet: the sync bit (status 0x81) is on frames 5 and 30. Per the 9560
# specification's frame table, the whole packet (frames 5-29) has HR MSB 00, HR LSB 4A,
# SpO2 60: 74 /min and 96 %, and 4A/60 again in its display and extended averages.
MATTJLEWIS_DF2 = (
    "01804900CA 0180464A11 01804400C5 01804300C4 01814300C5 0180434A0E 0180436024 "
    "0180439458 01804300C4 01804100C2 01803E17D6 01803C04C1 018039601A 0180366017 "
    "0180356016 01803400B5 01803400B5 01803400B5 0180354A00 0180366017 0180376018 "
    "01803A00BB 01804000C1 01804A00CB 0180574A22 01806900EA 01807C4A47 0180900011 "
    "0180A10022 0181AF0031"
)
DF2_STREAM = bytes.fromhex(MATTJLEWIS_DF2.replace(" ", ""))
SYNC_FRAME_AT = 4 * 5


@pytest.mark.parametrize("joined_at", range(SYNC_FRAME_AT + 1))
def test_nonin_df2_joins_mid_packet_and_reads_the_first_whole_packet(joined_at: int) -> None:
    framer = nonin.df2_framer()
    packets = framer.feed(DF2_STREAM[joined_at:])
    assert [values(nonin.df2_decode(p)) for p in packets] == [{SPO2: 96, PULSE: 74}]
    assert framer.skipped == SYNC_FRAME_AT - joined_at and framer.bad_checksums == 0
    assert nonin.df2_decode(packets[0]).status == ()  # status 0x80: no flag, no perfusion


@pytest.mark.parametrize("joined_at", range(SYNC_FRAME_AT + 1, SYNC_FRAME_AT + 5))
def test_nonin_df2_joined_inside_the_sync_frame_waits_for_the_next_packet(
    joined_at: int,
) -> None:
    assert nonin.df2_framer().feed(DF2_STREAM[joined_at:]) == []


def test_nonin_df2_bad_checksum_drops_the_packet() -> None:
    damaged = bytearray(DF2_STREAM)
    damaged[SYNC_FRAME_AT + 2 * 5 + 3] ^= 0x01  # frame 3 of the packet: the SpO2 byte
    framer = nonin.df2_framer()
    assert framer.feed(bytes(damaged)) == []
    assert framer.bad_checksums == 1
    with pytest.raises(DecodeError, match="frame 3: bad checksum"):
        nonin.df2_decode(bytes(damaged[SYNC_FRAME_AT : SYNC_FRAME_AT + 125]))


# -- Nonin data format 13 ---------------------------------------------------------------

# Nonin 9560 specification, "Data Format 13 - SmartPoint Algorithm", data packet table:
# 00, STX, packet type 00 0D, data length 00 0E; century 20, year, month, day, hour,
# minute, second, fraction (BCD); status MSB (SPA bit 1, NOMS bit 0), status LSB (MEM
# bit 4, LOW BAT bit 0); HR MSB, HR LSB; reserved; SpO2; checksum = LSB of the sum of the
# spot-check data; ETX 03. rprobinson/MediPi N9560Measurement.java reads the same
# (BCD date, SPA/NOMS/MEM/LOWBAT bits, a 23-byte variant with 9 more bytes). Built field
# by field: 2026-11-23 10:42:05, SmartPoint, HR 72, SpO2 97.
DF13 = "00 02 00 0D 00 0E 20 26 11 23 10 42 05 00 02 00 00 48 00 61 7C 03"


def test_nonin_df13_spot_check_packet() -> None:
    packet = bytes.fromhex(DF13)
    assert sum(packet[6:20]) & 0xFF == 0x7C
    m = nonin_spot.df13_decode(packet)
    assert values(m) == {SPO2: 97, PULSE: 72} and m.status == ("smartpoint",)
    assert m.timestamp == datetime(2026, 11, 23, 10, 42, 5)
    framer = nonin_spot.df13_framer()
    assert framer.feed(b"\x06" + packet[:9]) == [] and framer.feed(packet[9:]) == [packet]


def test_nonin_df13_missing_measurement_from_memory_low_battery() -> None:
    # NOMS with HR 511 (01 FF) and SpO2 127; MEM and LOW BAT in the status LSB.
    data = bytes.fromhex("20 26 11 23 10 42 05 00 01 11 01 FF 00 7F")
    packet = bytes.fromhex("00 02 00 0D 00 0E") + data + bytes([sum(data) & 0xFF, 3])
    m = nonin_spot.df13_decode(packet)
    assert values(m) == {SPO2: None, PULSE: None}
    assert m.status == ("from_memory", "low_battery", "no_measurement")


def test_nonin_df13_longer_data_section() -> None:
    # MediPi's 23-byte variant: 9 more data bytes (a serial number), length 00 17.
    data = bytes.fromhex("20 26 11 23 10 42 05 00 02 00 00 48 00 61") + b"501234567"
    packet = bytes.fromhex("00 02 00 0D 00 17") + data + bytes([sum(data) & 0xFF, 3])
    assert values(nonin_spot.df13_decode(packet)) == {SPO2: 97, PULSE: 72}


def test_nonin_df13_refuses_bad_checksum_and_missing_etx() -> None:
    packet = bytearray.fromhex(DF13)
    packet[-2] ^= 0x10
    with pytest.raises(DecodeError, match="bad checksum"):
        nonin_spot.df13_decode(bytes(packet))
    framer = nonin_spot.df13_framer()
    assert framer.feed(bytes(packet) + bytes.fromhex(DF13)) == [bytes.fromhex(DF13)]
    assert framer.bad_checksums == 1
    no_etx = bytes.fromhex(DF13)[:-1] + b"\x04"
    with pytest.raises(DecodeError, match="ETX"):
        nonin_spot.df13_decode(no_etx)
    with pytest.raises(DecodeError, match="announces 15 data bytes"):
        nonin_spot.df13_decode(bytes.fromhex(DF13.replace("00 0E", "00 0F", 1)))


def test_nonin_df13_refuses_a_date_that_is_not_bcd() -> None:
    data = bytes.fromhex("20 26 1A 23 10 42 05 00 02 00 00 48 00 61")
    packet = bytes.fromhex("00 02 00 0D 00 0E") + data + bytes([sum(data) & 0xFF, 3])
    with pytest.raises(DecodeError, match="month byte 0x1A is not BCD"):
        nonin_spot.df13_decode(packet)


def test_an_ascii_spot_check_line_is_not_format_13() -> None:
    with pytest.raises(DecodeError, match="not a Nonin format 13 packet"):
        nonin_spot.df13_decode(b"23-Nov-26 10:42:05 SPO2=097 HR=072")


# -- Tanita TBF-310 ---------------------------------------------------------------------

# The line parsed by the OBiBa Onyx research-cohort driver's test,
# github.com/obiba/onyx-instruments interface-bioimpedance-tanita-tbf310/src/test/java/
# org/obiba/onyx/jade/instrument/tanita/Tbf310InstrumentRunnerTest.java, which asserts
# STANDARD, FEMALE, height 170, weight 110.6, impedance 431, fat 28.4 %, fat mass 31.4,
# FFM 79.2, TBW 58.0, age 27, BMI 32.3, BMR 9771.
TBF310_LINE = b"0,2,170,110.6,431,28.4,31.4,79.2,58.0,27,32.3,9771\r\n"


def test_tanita_tbf310_line() -> None:
    m = tanita.tbf310_decode(TBF310_LINE)
    assert values(m) == {WEIGHT: Decimal("110.6"), FAT: Decimal("28.4"), HEIGHT: 170,
                         BMI: Decimal("32.3")}  # fmt: skip
    assert m.kind == "body_composition" and m.timestamp is None
    framer = PROTOCOLS["tanita-tbf310"].framer()
    assert framer.feed(TBF310_LINE) == [TBF310_LINE.strip()]


def test_tanita_tbf310_refuses_other_lines() -> None:
    with pytest.raises(DecodeError, match="has 12 fields, got 9"):
        tanita.tbf310_decode(b"0,2,165.0,60.5,512,25.4,15.4,45.1,33.0")
    with pytest.raises(DecodeError, match=r"weight 910\.6"):
        tanita.tbf310_decode(TBF310_LINE.replace(b"110.6", b"910.6"))
    with pytest.raises(DecodeError, match="body type"):
        tanita.tbf310_decode(TBF310_LINE.replace(b"0,2,", b"7,2,", 1))


# -- Tanita key/value lines -------------------------------------------------------------

# An SC-330 line from the sample log in the README of the public project "tanita -
# smartweight adapter to load data from Tannita device to the web page via web sockets"
# (the same line is its simulator's TanitaDataModel.getSampleAdultData). Its log then
# sends date "25/09/2014", height 191.0, weight 89.2, fat 18.8, BMI 24.5. The log prints
# the line with a closing "}" after the checksum, not part of the line: left out here.
SC330_LINE = (
    b'{0,16,~0,1,~1,1,~2,1,MO,"SC-330",SN,"00000001",ID,"0000000000",Da,"25/09/2014",'
    b'TI,"08:20",Bt,0,GE,1,AG,34,Hm,191.0,Pt,0.0,Wk,89.2,FW,18.8,fW,16.8,MW,72.4,mW,68.8,'
    b"sW,13,bW,3.6,wW,48.0,ww,53.8,MI,24.5,Sw,80.3,OV,11.1,IF,6,rb,8874,rB,2121,rJ,13,"
    b"rA,29,ZF,501.8,CS,D9"
)

# The MC-780 line of github.com/code4fukui/bodychecker MC780A.test.js; its MC780A.js maps
# DT/TI to the measurement time ("2026/06/03" "15:00"), Hm height (cm), Wk weight (kg),
# FW body fat (%), MI BMI.
MC780_LINE = (
    b'{0,16,~0,1,~1,1,~2,1,MO,"MC-780",ID,"0000000000000000",St,0,CC,"0000000000000000",'
    b'DT,"2026/06/03",TI,"15:00",Bt,5,GE,1,AG,47,Hm,175.5,Pt,0.0,Wk,67.6,FW,18.3,fW,12.4,'
    b"MW,55.2,mW,52.3,sW,0,bW,2.9,wW,38.2,ww,56.5,MI,21.9,Sf,18.0,IF,9,LP,102,rB,1514,"
    b"rJ,11,BA,0,BF,0,Ap,55,gF,0,gW,0.0,gf,0.0,gt,0.0,FR,16.3,fR,2.1,MR,10.9,mR,10.3,SR,-1,"
    b"sR,0,FL,16.9,fL,2.2,ML,10.8,mL,10.2,SL,0,sL,0,Fr,13.9,fr,0.5,Mr,2.9,mr,2.7,Sr,0,sr,0,"
    b"Fl,15.4,fl,0.5,Ml,2.8,ml,2.6,Sl,0,sl,-1,FT,20.3,fT,7.1,MT,27.8,mT,26.5,ST,0,sT,-2,"
    b"aH,0.0,cH,0.0,GH,665.2,HH,-29.2,RH,586.1,XH,-61.5,JH,523.8,KH,-54.6,LH,0.0,QH,0.0,"
    b"iH,0.0,jH,0.0,aR,0.0,cR,0.0,GR,256.1,HR,-10.8,RR,225.8,XR,-22.0,JR,205.1,KR,-16.4,"
    b"LR,0.0,QR,0.0,iR,0.0,jR,0.0,aL,0.0,cL,0.0,GL,270.1,HL,-12.4,RL,236.4,XL,-23.9,"
    b"JL,213.9,KL,-17.6,LL,0.0,QL,0.0,iL,0.0,jL,0.0,ar,0.0,cr,0.0,Gr,360.1,Hr,-14.6,"
    b"Rr,317.2,Xr,-36.6,Jr,277.0,Kr,-38.1,Lr,0.0,Qr,0.0,ir,0.0,jr,0.0,al,0.0,cl,0.0,"
    b"Gl,368.6,Hl,-15.0,Rl,326.0,Xl,-35.3,Jl,287.4,Kl,-35.6,Ll,0.0,Ql,0.0,il,0.0,jl,0.0,"
    b"aF,0.0,cF,0.0,GF,529.4,HF,-24.6,RF,464.9,XF,-47.3,JF,418.8,KF,-36.0,LF,0.0,QF,0.0,"
    b"iF,0.0,jF,0.0,aM,0.0,cM,0.0,GM,643.8,HM,-28.3,RM,565.9,XM,-61.0,JM,504.4,KM,-56.4,"
    b"LM,0.0,QM,0.0,iM,0.0,jM,0.0,pH,-6.0,pR,-5.6,pL,-5.8,pr,-6.6,pl,-6.2,pF,-5.8,pM,-6.2,"
    b"mh,16.98,mb,0.77,ah,8.38,ab,0.38,AS,25.8,CS,24"
)


def test_tanita_sc330_line() -> None:
    m = tanita_kv.decode(SC330_LINE + b"\r\n")
    assert values(m) == {WEIGHT: Decimal("89.2"), FAT: Decimal("18.8"),
                         HEIGHT: Decimal("191.0"), BMI: Decimal("24.5")}  # fmt: skip
    assert m.timestamp == datetime(2014, 9, 25, 8, 20)


def test_tanita_mc780_line() -> None:
    m = tanita_kv.decode(MC780_LINE)
    assert values(m) == {WEIGHT: Decimal("67.6"), FAT: Decimal("18.3"),
                         HEIGHT: Decimal("175.5"), BMI: Decimal("21.9")}  # fmt: skip
    assert m.timestamp == datetime(2026, 6, 3, 15, 0)
    framer = PROTOCOLS["tanita-kv"].framer()
    assert framer.feed(MC780_LINE[:500]) == [] and framer.feed(MC780_LINE[500:] + b"\r\n")


@pytest.mark.parametrize("line", [SC330_LINE, MC780_LINE])
def test_tanita_checksum_is_the_sum_not_the_xor(line: bytes) -> None:
    body = line[: line.rindex(b",CS,") + 1]
    assert sum(body) & 0xFF == int(line[-2:], 16)
    xor = 0
    for byte in body:
        xor ^= byte
    with pytest.raises(DecodeError, match="bad Tanita checksum"):
        tanita_kv.decode(body + f"CS,{xor:02X}".encode())


def test_tanita_kv_refuses_pounds() -> None:
    body = b'{0,16,~0,1,~1,1,~2,1,MO,"SC-330",Wp,196.6,'
    with pytest.raises(DecodeError, match="pounds"):
        tanita_kv.decode(body + f"CS,{tanita_kv.checksum(body.decode()):02X}".encode())


# -- Tanita BC-418 ----------------------------------------------------------------------

# No public sample line: the field positions are those github.com/obiba/onyx-instruments
# interface-bioimpedance-tanita-bc418/.../Bc418InstrumentRunner.java reads (date, time,
# body type, gender, height, weight, fat %, fat mass, FFM, TBW, age, BMI, BMR, impedance,
# 4 segmental impedances, 5 x 4 segmental values). The values are made up: the protocol
# is marked "not yet checked against a device" (PROTOCOLS["tanita-bc418"].unconfirmed).
BC418_LINE = (
    b'"23/11/26","10:42",0,2,165,60.5,25.4,15.4,45.1,33.0,45,22.2,5850,512,'
    b"250,252,310,312,26.0,2.8,7.9,7.5,26.1,2.8,7.8,7.4,30.2,0.9,2.1,2.0,30.5,0.9,2.1,2.0,"
    b"22.0,7.0,23.0,22.0"
)


def test_tanita_bc418_positions_from_the_onyx_driver() -> None:
    assert PROTOCOLS["tanita-bc418"].unconfirmed
    m = tanita.bc418_decode(BC418_LINE)
    assert values(m) == {WEIGHT: Decimal("60.5"), FAT: Decimal("25.4"), HEIGHT: 165,
                         BMI: Decimal("22.2")}  # fmt: skip
    assert m.timestamp == datetime(2026, 11, 23, 10, 42)
    with pytest.raises(DecodeError, match="has 38 fields, got 37"):
        tanita.bc418_decode(BC418_LINE.rsplit(b",", 1)[0])
