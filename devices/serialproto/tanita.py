"""Tanita body-composition scales: one text line per weighing.

TBF-310 (2400 baud, 7 data bits, odd parity, 1 stop bit), positional CSV:
    ``body_type,gender,height_cm,weight_kg,impedance_ohm,fat_%,fat_kg,ffm_kg,tbw_kg``
    e.g. ``0,2,165.0,60.5,512,25.4,15.4,45.1,33.0``. BMI is derived from the weight
    and the height keyed in on the scale (rounded to 0.1).

BC-418 (9600 8N1), key/value CSV after a fixed header, ending with a checksum:
    ``{0,16,~0,1,~1,1,~2,1,MO,"BC-418",DT,"23/11/2026",Ti,"10:42",Bt,0,GE,1,AG,45,
    Hm,170.0,Wk,68.4,MI,23.7,FW,21.7,...,CS,3C`` where CS is the XOR of every byte
    before ``CS`` in two hex digits. Keys used: Hm height, Wk weight, FW fat %, MI BMI,
    DT/Ti the scale's clock; unknown keys are ignored (the BC-418 sends many)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from devices.measurement import DecodeError, Measurement
from devices.serialproto.framing import LineFramer
from devices.serialproto.readings import BodyReading, Reading, expect_type

TBF310_FIELDS = 9
BC418_HEADER = "{0,16,~0,1,~1,1,~2,1,"
MAX_WEIGHT_KG = Decimal(300)
TENTH = Decimal("0.1")


def bmi(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    return (weight_kg / (height_cm / 100) ** 2).quantize(TENTH)


def body_reading(weight_kg: Decimal, fat_percent: Decimal, height_cm: Decimal) -> BodyReading:
    """A reading as a TBF-310 reports it (BMI derived)."""
    return BodyReading(weight_kg, fat_percent, height_cm, bmi(weight_kg, height_cm))


def framer() -> LineFramer:
    return LineFramer(mask7=True)


def bc418_framer() -> LineFramer:
    return LineFramer()


def _number(text: str, what: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        value = Decimal(text.strip().strip('"'))
    except InvalidOperation:
        raise DecodeError(f"{what} {text.strip()!r} is not a number") from None
    if not value.is_finite() or not low <= value <= high:
        raise DecodeError(f"{what} {value} is outside {low}-{high}")
    return value


def _text(line: bytes) -> str:
    try:
        return line.decode("ascii").strip()
    except UnicodeDecodeError:
        raise DecodeError("a Tanita line is ASCII text") from None


def tbf310_decode(line: bytes) -> Measurement:
    fields = _text(line).split(",")
    if len(fields) != TBF310_FIELDS:
        raise DecodeError(f"a TBF-310 line has {TBF310_FIELDS} fields, got {len(fields)}")
    if fields[0].strip() not in ("0", "2") or fields[1].strip() not in ("1", "2"):
        raise DecodeError("TBF-310: body type must be 0 or 2 and gender 1 or 2")
    height = _number(fields[2], "height", Decimal(50), Decimal(250))
    weight = _number(fields[3], "weight", Decimal(0), MAX_WEIGHT_KG)
    _number(fields[4], "impedance", Decimal(0), Decimal(2000))
    fat = _number(fields[5], "fat %", Decimal(0), Decimal(75))
    for n in (6, 7, 8):
        _number(fields[n], "mass", Decimal(0), MAX_WEIGHT_KG)
    return body_reading(weight, fat, height).measurement()


def tbf310_encode(reading: Reading) -> bytes:
    r = expect_type(reading, BodyReading)
    if r.fat_percent is None or r.height_cm is None:
        raise ValueError("a TBF-310 line needs the fat % and the height")
    fat_kg = (r.weight_kg * r.fat_percent / 100).quantize(TENTH)
    ffm = r.weight_kg - fat_kg
    tbw = (ffm * Decimal("0.73")).quantize(TENTH)
    fields = ["0", "1", f"{r.height_cm:.1f}", f"{r.weight_kg:.1f}", "512"]
    fields += [f"{r.fat_percent:.1f}", f"{fat_kg:.1f}", f"{ffm:.1f}", f"{tbw:.1f}"]
    return (",".join(fields) + "\r\n").encode("ascii")


def _xor(data: bytes) -> int:
    value = 0
    for b in data:
        value ^= b
    return value


def bc418_decode(line: bytes) -> Measurement:
    text = _text(line)
    if not text.startswith(BC418_HEADER):
        raise DecodeError("a BC-418 line starts with {0,16,~0,1,~1,1,~2,1,")
    cut = text.rfind(",CS,")
    if cut < 0:
        raise DecodeError("the BC-418 line has no CS checksum")
    try:
        given = int(text[cut + 4 :], 16)
    except ValueError:
        raise DecodeError("the BC-418 checksum is not two hex digits") from None
    if _xor(text[: cut + 1].encode("ascii")) != given:
        raise DecodeError("bad BC-418 checksum")
    tokens = text[len(BC418_HEADER) : cut].split(",")
    if len(tokens) % 2:
        raise DecodeError("BC-418 fields come in key,value pairs")
    pairs = dict(zip(tokens[::2], tokens[1::2], strict=True))
    for key in ("Wk", "FW", "Hm"):
        if key not in pairs:
            raise DecodeError(f"the BC-418 line has no {key} field")
    weight = _number(pairs["Wk"], "weight", Decimal(0), MAX_WEIGHT_KG)
    height = _number(pairs["Hm"], "height", Decimal(50), Decimal(250))
    fat = _number(pairs["FW"], "fat %", Decimal(0), Decimal(75))
    bmi_value = _number(pairs["MI"], "BMI", Decimal(0), Decimal(400)) if "MI" in pairs else None
    timestamp = None
    if "DT" in pairs and "Ti" in pairs:
        stamp = pairs["DT"].strip('"') + " " + pairs["Ti"].strip('"')
        try:
            timestamp = datetime.strptime(stamp, "%d/%m/%Y %H:%M")
        except ValueError:
            raise DecodeError("the BC-418 date/time is not valid") from None
    return BodyReading(weight, fat, height, bmi_value, timestamp).measurement()


def bc418_encode(reading: Reading) -> bytes:
    r = expect_type(reading, BodyReading)
    if r.fat_percent is None or r.height_cm is None:
        raise ValueError("a BC-418 line needs the fat % and the height")
    pairs = ['MO,"BC-418"']
    if r.timestamp is not None:
        pairs.append(f'DT,"{r.timestamp:%d/%m/%Y}",Ti,"{r.timestamp:%H:%M}"')
    pairs += ["Bt,0", "GE,1", "AG,45", f"Hm,{r.height_cm:.1f}", "Pt,0.0"]
    pairs.append(f"Wk,{r.weight_kg:.1f}")
    if r.bmi is not None:
        pairs.append(f"MI,{r.bmi:.1f}")
    pairs += [f"FW,{r.fat_percent:.1f}", "IF,8"]
    body = BC418_HEADER + ",".join(pairs) + ","
    return f"{body}CS,{_xor(body.encode('ascii')):02X}\r\n".encode("ascii")
