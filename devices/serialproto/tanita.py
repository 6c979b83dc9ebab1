"""Tanita body-composition scales with positional CSV output: TBF-310 and BC-418 (the
key/value output of the newer models is in ``tanita_kv``).

TBF-310, 2400 baud, 7 data bits, even parity, 1 stop bit, one line per weighing, ending
CR LF, 12 fields. Learnt from the OBiBa Onyx research-cohort driver (github.com/obiba/
onyx-instruments, interface-bioimpedance-tanita-tbf310/.../Tbf310InstrumentRunner.java and
its test, which parses "0,2,170,110.6,431,28.4,31.4,79.2,58.0,27,32.3,9771"); its first
runner (github.com/obiba/onyx, 2008) opened the port with SerialPort.PARITY_EVEN. (Its
later Spring configuration passes parity 1, which RXTX reads as odd: the sources do not
agree; even is what Tanita's own 2400-baud 7-bit scales of that time document.)

    0 body type (0 standard, 2 athletic)   1 gender (1 male, 2 female)
    2 height (cm, as keyed in)             3 weight (kg)
    4 impedance (ohm)                      5 body fat (%)
    6 fat mass (kg)                        7 fat-free mass (kg)
    8 total body water (kg)                9 age (years)
    10 BMI (kg/m2)                         11 basal metabolic rate (kJ)

BC-418, 4800 8N1, 38 positional fields after the host has sent the subject's data in
remote mode (U0, D0..D4, G1), as the same Onyx driver reads it (interface-bioimpedance-
tanita-bc418/.../Bc418InstrumentRunner.java): date "dd/mm/yy", time "hh:mm" (quoted), body
type, gender, height, weight, fat %, fat mass, fat-free mass, total body water, age, BMI,
BMR, impedance, then segmental impedances and the fat %, fat mass, fat-free mass and
predicted muscle mass of each leg, arm and the trunk. No checksum. No public sample line
is known: this layout is not yet checked against a device's output, and the cabin does
not send the remote-mode commands."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from devices.measurement import DecodeError, Measurement
from devices.serialproto.framing import LineFramer
from devices.serialproto.readings import BodyReading, Reading, expect_type

TBF310_FIELDS = 12
BC418_FIELDS = 38
MAX_WEIGHT_KG = Decimal(300)
MAX_BMI = Decimal(400)  # 300 kg at 0.9 m: past it the field is not a BMI
TENTH = Decimal("0.1")
# Values the simulators put in fields the cabin does not record.
_SIM_IMPEDANCE = 512
_SIM_AGE = 45


def bmi(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    return (weight_kg / (height_cm / 100) ** 2).quantize(TENTH)


def body_reading(weight_kg: Decimal, fat_percent: Decimal, height_cm: Decimal) -> BodyReading:
    """A reading as these scales report it (BMI from the weight and the keyed-in height)."""
    return BodyReading(weight_kg, fat_percent, height_cm, bmi(weight_kg, height_cm))


def framer() -> LineFramer:
    return LineFramer(mask7=True)


def bc418_framer() -> LineFramer:
    return LineFramer()


def number(text: str, what: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        value = Decimal(text.strip().strip('"'))
    except InvalidOperation:
        raise DecodeError(f"{what} {text.strip()!r} is not a number") from None
    if not value.is_finite() or not low <= value <= high:
        raise DecodeError(f"{what} {value} is outside {low}-{high}")
    return value


def text_of(line: bytes) -> str:
    """The line as text, control characters around it removed."""
    try:
        return line.decode("ascii").strip(" \r\n\t\x00\x02\x03")
    except UnicodeDecodeError:
        raise DecodeError("a Tanita line is ASCII text") from None


def _check_subject(body_type: str, gender: str, model: str) -> None:
    if body_type.strip() not in ("0", "2") or gender.strip() not in ("1", "2"):
        raise DecodeError(f"{model}: body type must be 0 or 2 and gender 1 or 2")


def _masses(fields: list[str], model: str) -> None:
    for field in fields:
        number(field, f"{model} mass", Decimal(0), MAX_WEIGHT_KG)


def tbf310_decode(line: bytes) -> Measurement:
    fields = text_of(line).split(",")
    if len(fields) != TBF310_FIELDS:
        raise DecodeError(f"a TBF-310 line has {TBF310_FIELDS} fields, got {len(fields)}")
    _check_subject(fields[0], fields[1], "TBF-310")
    height = number(fields[2], "height", Decimal(50), Decimal(250))
    weight = number(fields[3], "weight", Decimal(0), MAX_WEIGHT_KG)
    number(fields[4], "impedance", Decimal(0), Decimal(2000))
    fat = number(fields[5], "fat %", Decimal(0), Decimal(75))
    _masses(fields[6:9], "TBF-310")
    number(fields[9], "age", Decimal(0), Decimal(120))
    bmi_value = number(fields[10], "BMI", Decimal(0), MAX_BMI)
    number(fields[11], "basal metabolic rate", Decimal(0), Decimal(99999))
    return BodyReading(weight, fat, height, bmi_value).measurement()


def _derived(r: BodyReading) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Fat mass, fat-free mass, total body water and BMR the simulators print."""
    assert r.fat_percent is not None
    fat_kg = (r.weight_kg * r.fat_percent / 100).quantize(TENTH)
    ffm = r.weight_kg - fat_kg
    tbw = (ffm * Decimal("0.73")).quantize(TENTH)
    bmr = (ffm * Decimal("92.6") + 1545).quantize(Decimal(1))  # a plausible kJ figure
    return fat_kg, ffm, tbw, bmr


def _complete(reading: Reading, model: str) -> BodyReading:
    r = expect_type(reading, BodyReading)
    if r.fat_percent is None or r.height_cm is None:
        raise ValueError(f"a {model} line needs the fat % and the height")
    return r


def tbf310_encode(reading: Reading) -> bytes:
    r = _complete(reading, "TBF-310")
    assert r.height_cm is not None and r.fat_percent is not None
    fat_kg, ffm, tbw, bmr = _derived(r)
    bmi_value = r.bmi if r.bmi is not None else bmi(r.weight_kg, r.height_cm)
    fields = ["0", "1", f"{r.height_cm:.1f}", f"{r.weight_kg:.1f}", str(_SIM_IMPEDANCE)]
    fields += [f"{r.fat_percent:.1f}", f"{fat_kg:.1f}", f"{ffm:.1f}", f"{tbw:.1f}"]
    fields += [str(_SIM_AGE), f"{bmi_value:.1f}", str(bmr)]
    return (",".join(fields) + "\r\n").encode("ascii")


def bc418_decode(line: bytes) -> Measurement:
    fields = text_of(line).split(",")
    if len(fields) != BC418_FIELDS:
        raise DecodeError(f"a BC-418 line has {BC418_FIELDS} fields, got {len(fields)}")
    day_month, _, year = fields[0].strip().strip('"').rpartition("/")
    clock = fields[1].strip().strip('"')
    stamp = f"{day_month}/20{year} {clock}"  # a scale's "yy" is 20yy
    try:
        timestamp = datetime.strptime(stamp, "%d/%m/%Y %H:%M")
    except ValueError:
        raise DecodeError("the BC-418 date/time is not a valid dd/mm/yy hh:mm") from None
    _check_subject(fields[2], fields[3], "BC-418")
    height = number(fields[4], "height", Decimal(50), Decimal(250))
    weight = number(fields[5], "weight", Decimal(0), MAX_WEIGHT_KG)
    fat = number(fields[6], "fat %", Decimal(0), Decimal(75))
    _masses(fields[7:10], "BC-418")
    number(fields[10], "age", Decimal(0), Decimal(120))
    bmi_value = number(fields[11], "BMI", Decimal(0), MAX_BMI)
    number(fields[12], "basal metabolic rate", Decimal(0), Decimal(99999))
    for field in fields[13:18]:
        number(field, "impedance", Decimal(0), Decimal(2000))
    for field in fields[18:]:
        number(field, "segmental value", Decimal(0), MAX_WEIGHT_KG)
    return BodyReading(weight, fat, height, bmi_value, timestamp).measurement()


def bc418_encode(reading: Reading) -> bytes:
    r = _complete(reading, "BC-418")
    assert r.height_cm is not None and r.fat_percent is not None
    fat_kg, ffm, tbw, bmr = _derived(r)
    when = r.timestamp or datetime(2000, 1, 1)
    bmi_value = r.bmi if r.bmi is not None else bmi(r.weight_kg, r.height_cm)
    fields = [f'"{when:%d/%m/%y}"', f'"{when:%H:%M}"', "0", "1", f"{r.height_cm:.1f}"]
    fields += [f"{r.weight_kg:.1f}", f"{r.fat_percent:.1f}", f"{fat_kg:.1f}", f"{ffm:.1f}"]
    fields += [f"{tbw:.1f}", str(_SIM_AGE), f"{bmi_value:.1f}", str(bmr), str(_SIM_IMPEDANCE)]
    fields += ["250", "252", "310", "312"]  # segmental impedances
    for share in ("0.18", "0.18", "0.06", "0.06", "0.52"):  # legs, arms, trunk
        part = Decimal(share)
        fields += [f"{r.fat_percent:.1f}", f"{fat_kg * part:.1f}", f"{ffm * part:.1f}"]
        fields.append(f"{ffm * part * Decimal('0.95'):.1f}")
    return (",".join(fields) + "\r\n").encode("ascii")
