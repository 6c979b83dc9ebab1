"""Each Bluetooth SIG health characteristic the cabin decodes, against vectors from
published drivers' tests, cited next to each one with the values that source asserts.

Nordic: github.com/NordicSemiconductor/Android-BLE-Common-Library,
ble-common/src/test/java/no/nordicsemi/android/ble/common/callback/...
blevalueparser: github.com/eisaev/blevalueparser, tests/...
openScale: github.com/oliexdev/openScale, android_app/app/src/test/java/com/health/
openscale/core/bluetooth/scales/StandardBeurerSanitasHandlerTest.kt
PLX has no published vector we know of: its vectors are built from the GATT
Specification Supplement's field list, and the profile is marked unconfirmed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from devices import gatt
from devices.gatt import BodyCompositionFrame, GlucoseContext, HeartRateFrame
from devices.gatt.racp import NumberOfRecords, ResponseCode, ResponseValue
from devices.measurement import DecodeError, Measurement


def measure(uuid: int, hex_bytes: str) -> Measurement:
    decoded = gatt.decode(uuid, bytes.fromhex(hex_bytes))
    assert isinstance(decoded, Measurement)
    return decoded


def readings(m: Measurement) -> list[tuple[str, Decimal | None, str]]:
    return [(o.code, o.value, o.unit) for o in m.observations]


# -- Blood Pressure Measurement 0x2A35 --------------------------------------------------


def test_blood_pressure_full() -> None:
    # Nordic bps/BloodPressureMeasurementDataCallbackTest, ..._full: systolic 138,
    # diastolic 88, mean 120 mmHg, pulse 60, user 1, body movement, cuff too loose,
    # irregular pulse, pulse rate in range, improper position; the date has year 0
    # ("not set" there), so the cabin keeps no time stamp.
    m = measure(0x2A35, "1E 8A00 5800 7800 0000 04 11 14 29 3B 3C00 01 2700")
    assert readings(m) == [
        ("8480-6", 138, "mm[Hg]"), ("8462-4", 88, "mm[Hg]"), ("8478-0", 120, "mm[Hg]"),
        ("8867-4", 60, "/min"),
    ]  # fmt: skip
    assert m.status == ("body_movement", "cuff_loose", "irregular_pulse", "improper_position")
    assert m.timestamp is None and not m.intermediate


def test_blood_pressure_kpa_and_minimal() -> None:
    # Nordic ..._some: 18.9, 11.0, 15.9 kPa, pulse 60, cuff too loose, pulse rate less
    # than the lower limit; ..._minimal: the same three values, mmHg, nothing else.
    m = measure(0x2A35, "15 BDF0 0B00 9FF0 3C00 1200")
    assert readings(m) == [
        ("8480-6", Decimal("18.9"), "kPa"), ("8462-4", 11, "kPa"),
        ("8478-0", Decimal("15.9"), "kPa"), ("8867-4", 60, "/min"),
    ]  # fmt: skip
    assert m.status == ("cuff_loose", "pulse_rate_below_range")
    minimal = measure(0x2A35, "00 BDF0 0B00 9FF0")
    assert [o.value for o in minimal.observations] == [Decimal("18.9"), 11, Decimal("15.9")]


def test_blood_pressure_too_short_is_refused() -> None:
    # Nordic onInvalidDataReceived_toShort / _noTimestamp.
    for invalid in ("010203040506", "03020304050607"):
        with pytest.raises(DecodeError):
            gatt.decode(0x2A35, bytes.fromhex(invalid))


# -- Intermediate Cuff Pressure 0x2A36 --------------------------------------------------


@pytest.mark.parametrize(
    ("value", "pressure", "unit"),
    [
        # Nordic bps/IntermediateCuffPressureDataCallbackTest: _full 4.0 mmHg (pulse 60,
        # user 1), _some 11.1 kPa (pulse 60), _minimal 21.5 mmHg.
        ("1E 0400 0000 0000 0000 04 11 14 29 3B 3C00 01 2700", Decimal(4), "mm[Hg]"),
        ("15 6FF0 0000 0000 3C00 1200", Decimal("11.1"), "kPa"),
        ("00 D7F0 0000 0000", Decimal("21.5"), "mm[Hg]"),
    ],
)
def test_intermediate_cuff_pressure(value: str, pressure: Decimal, unit: str) -> None:
    m = measure(0x2A36, value)
    assert m.kind == "cuff_pressure" and m.intermediate
    assert readings(m)[0] == ("8480-6", pressure, unit)


# -- Temperature Measurement 0x2A1C -----------------------------------------------------


def test_temperature() -> None:
    # Nordic ht/TemperatureMeasurementDataCallbackTest: 37.60 °C, 2012-12-05 11:50:27,
    # type finger; the same bytes without the type byte are invalid.
    m = measure(0x2A1C, "06 B00E00FE DC07 0C 05 0B 32 1B 04")
    assert readings(m) == [("8310-5", Decimal("37.60"), "Cel")]
    assert m.timestamp == datetime(2012, 12, 5, 11, 50, 27) and m.status == ("site_finger",)
    with pytest.raises(DecodeError, match="temperature type"):
        gatt.decode(0x2A1C, bytes.fromhex("06 B00E00FE DC07 0C 05 0B 32 1B"))


# -- Heart Rate Measurement 0x2A37 ------------------------------------------------------


def test_heart_rate() -> None:
    # Nordic hr/HeartRateMeasurementDataCallbackTest: _simple 85; _noContact 255, contact
    # not detected; _uint8 85, contact, energy 50, one RR 33; _uint16 257, contact,
    # energy 306, RR 1, 258, 65535 (1/1024 s); invalid: flags 0b10111 with 2 bytes left.
    assert readings(measure(0x2A37, "00 55")) == [("8867-4", 85, "/min")]
    no_contact = measure(0x2A37, "04 FF")
    assert readings(no_contact)[0][1] == 255 and no_contact.status == ("no_sensor_contact",)
    assert measure(0x2A37, "1E 55 3200 2100").status == ("sensor_contact",)
    frame = gatt.decode_frame(0x2A37, bytes.fromhex("1F 0101 3201 0100 0201 FFFF"))
    assert isinstance(frame, HeartRateFrame)
    assert (frame.heart_rate, frame.energy_expended_kj) == (257, 306)
    assert [rr * 1024 for rr in frame.rr_intervals] == [1, 258, 65535]
    with pytest.raises(DecodeError, match="RR intervals"):
        gatt.decode(0x2A37, bytes.fromhex("17 0101"))


# -- Glucose Measurement 0x2A18, context 0x2A34, RACP 0x2A52 ----------------------------


def test_glucose_measurement() -> None:
    # Nordic glucose/GlucoseMeasurementDataCallbackTest: sequence 1, 2019-02-27 11:10:30
    # with a -5 min offset (minute 5), 30.0 kg/L (the test's value, not a physiological
    # one), capillary plasma from a finger, status 0x0105 with device battery low,
    # context follows.
    frame = gatt.decode_frame(
        0x2A18, bytes.fromhex("1B 0100 E307 02 1B 0B 0A 1E FBFF 1E00 12 0501")
    )
    assert isinstance(frame, gatt.GlucoseFrame)
    assert (frame.sequence_number, frame.time_offset) == (1, -5)
    assert frame.concentration == 30 and not frame.molar
    assert (frame.sample_type, frame.sample_location) == ("capillary_plasma", "finger")
    assert "device_battery_low" in frame.sensor_status and frame.context_follows
    m = frame.to_measurement()
    assert m.timestamp == datetime(2019, 2, 27, 11, 5, 30)
    assert readings(m) == [("2339-0", Decimal(3_000_000), "mg/dL")]  # 30 kg/L


def test_glucose_context_and_racp() -> None:
    # Nordic glucose/GlucoseMeasurementContextDataCallbackTest, _empty: flags 0,
    # sequence 1, nothing else (17 bytes, the rest zero).
    context = gatt.decode(0x2A34, bytes.fromhex("00 0100" + "00" * 14))
    assert isinstance(context, GlucoseContext) and context.sequence_number == 1
    assert context.carbohydrate is None and context.medication is None
    # Nordic RecordAccessControlPointDataCallbackTest: 06 00 01 01 completed (op 1),
    # 06 00 01 06 no records, 06 00 0C 02 op code not supported, 06 00 02 08 procedure
    # not completed, 05 00 02 01 258 records (uint16).
    expected = {
        "06000101": ResponseCode(1, ResponseValue.SUCCESS),
        "06000106": ResponseCode(1, ResponseValue.NO_RECORDS_FOUND),
        "06000C02": ResponseCode(12, ResponseValue.OP_CODE_NOT_SUPPORTED),
        "06000208": ResponseCode(2, ResponseValue.PROCEDURE_NOT_COMPLETED),
        "05000201": NumberOfRecords(258),
    }
    for value, response in expected.items():
        assert gatt.decode(0x2A52, bytes.fromhex(value)) == response
    with pytest.raises(DecodeError):  # Nordic onInvalidDataReceived_tooShort
        gatt.decode(0x2A52, bytes.fromhex("0101"))


# -- Weight Measurement 0x2A9D ----------------------------------------------------------


def test_weight() -> None:
    # openScale StandardBeurerSanitasHandlerTest.weightPacket(): flags 0x00 (kg), 72.5 kg
    # / 0.005 = 14500 little-endian; the test asserts 72.5 kg.
    m = measure(0x2A9D, "00 A438")
    assert readings(m) == [("29463-7", Decimal("72.5"), "kg")] and m.kind == "weight"


# -- Body Composition Measurement 0x2A9C ------------------------------------------------


def test_body_composition_every_field() -> None:
    # blevalueparser tests/bodycompositionmeasurementtest.cpp,
    # FeaturesAll_SinglePacket_ReservedOdd: fat 1333 %, 06.02.2023 18:28:00, user 42,
    # BMR 17699 kJ, muscle 2206.8 %, muscle mass 132.185 kg, fat-free 154.03, soft lean
    # 175.875, water 197.72 kg, impedance 4391.3 ohm, weight 241.41 kg, height 52.651 m
    # (field-layout values, not a person's).
    value = "FEAF 1234 E707 02 06 12 1C 00 2A 2345 3456 4567 5678 6789 789A 89AB 9ABC ABCD"
    frame = gatt.decode_frame(0x2A9C, bytes.fromhex(value))
    assert isinstance(frame, BodyCompositionFrame)
    assert frame.body_fat == Decimal("1333.0") and frame.user_id == 42
    assert frame.timestamp == datetime(2023, 2, 6, 18, 28)
    assert (frame.basal_metabolism, frame.muscle_percentage) == (17699, Decimal("2206.8"))
    assert [frame.muscle_mass, frame.fat_free_mass, frame.soft_lean_mass,
            frame.body_water_mass] == [Decimal(v) for v in ("132.185", "154.03", "175.875",
                                                            "197.72")]  # fmt: skip
    assert (frame.impedance, frame.weight, frame.height) == (
        Decimal("4391.3"),
        Decimal("241.41"),
        Decimal("52.651"),
    )
    assert not frame.imperial and not frame.multiple_packet


def test_body_composition_unsuccessful_and_imperial() -> None:
    # blevalueparser MeasurementUnsuccessful: flags 0, fat FF FF.
    m = measure(0x2A9C, "0000 FFFF")
    assert m.status == ("measurement_unsuccessful",) and m.observations[0].value is None
    # blevalueparser Imperial: the same fields with bit 0 set: weight 482.82 lb, height
    # 5265.1 in.
    value = "FFAF 1234 E707 02 06 12 1C 00 2A 2345 3456 4567 5678 6789 789A 89AB 9ABC ABCD"
    frame = gatt.decode_frame(0x2A9C, bytes.fromhex(value))
    assert isinstance(frame, BodyCompositionFrame) and frame.imperial
    assert (frame.weight, frame.height) == (Decimal("482.82"), Decimal("5265.1"))


# -- PLX Spot-check 0x2A5E / Continuous 0x2A5F (unconfirmed) -------------------------


# Built from the GATT Specification Supplement's fields (flags, SpO2 and pulse rate as
# SFLOAT): SpO2 98 % = 0x0062, 72 /min = 0x0048. Not yet checked against a device or a
# published capture (devices/gatt/plx.py and the README say so).
def test_plx_from_the_specification_layout() -> None:
    spot = measure(0x2A5E, "00 6200 4800")
    assert readings(spot) == [("59408-5", 98, "%"), ("8867-4", 72, "/min")]
    continuous = measure(0x2A5F, "00 6200 4800")
    assert readings(continuous) == [("59408-5", 98, "%"), ("8867-4", 72, "/min")]
