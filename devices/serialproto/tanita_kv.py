"""Tanita key/value output (MC-780, SC-330, BC-420, DC-320 and others), 9600 8N1: one line
per weighing, ending CR LF:

    {0,16,~0,1,~1,1,~2,1,MO,"SC-330",SN,"00000001",ID,"0000000000",Da,"25/09/2014",
    TI,"08:20",Bt,0,GE,1,AG,34,Hm,191.0,Pt,0.0,Wk,89.2,FW,18.8,...,CS,D9

Four control pairs, then key,value pairs in the model's own order, then ``CS`` and two
hex digits: the sum, mod 256, of every byte before ``CS`` (the comma before it included).
Learnt from public lines: an SC-330 line in the sample log of the project whose README
is titled "tanita - smartweight adapter to load data from Tannita device to the web page
via web sockets" (CS D9), and an MC-780 line in github.com/code4fukui/bodychecker
MC780A.test.js (CS 24), whose MC780A.js names the keys; Tanita's BC-420MA manual lists
the same control pairs and ``Da``. The date key and layout differ by model: ``Da``
"dd/mm/yyyy" (SC-330, BC-420), ``DT`` "yyyy/mm/dd" (MC-780), ``DA`` "yy/mm/dd" (DC-320,
seen in a public sample whose checksum does not match, so not a test vector); the time is
``TI`` (or ``Ti``) "hh:mm". Keys used: Wk weight (kg), FW body fat (%), Hm height (cm),
MI BMI. Unknown keys are ignored (an MC-780 sends about 150). A scale set to pounds
(``Wp``, ``Ws``) or feet (``Hf``) is refused: the cabin records kilograms and centimetres.
The line settings are the MC-780's (9600 8N1); the SC-330's are not confirmed."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from devices.measurement import DecodeError, Measurement
from devices.serialproto.framing import LineFramer
from devices.serialproto.readings import BodyReading, Reading, expect_type
from devices.serialproto.tanita import MAX_BMI, MAX_WEIGHT_KG, number, text_of

HEADER = "{0,16,~0,1,~1,1,~2,1,"
_CHECKSUM = re.compile(r",CS,([0-9A-Fa-f]{2})$")
# key: (layout, prefix); a scale's two-digit year is 20yy.
_DATE_FORMATS = {"Da": ("%d/%m/%Y", ""), "DT": ("%Y/%m/%d", ""), "DA": ("%Y/%m/%d", "20")}
_IMPERIAL = {"Wp": "pounds", "Ws": "stones and pounds", "Hf": "feet and inches"}


def checksum(text: str) -> int:
    """The sum mod 256 of ``text`` (everything up to and including the comma before CS)."""
    return sum(text.encode("ascii")) & 0xFF


def framer() -> LineFramer:
    return LineFramer()


def _pairs(body: str) -> dict[str, str]:
    tokens = body.split(",")
    if len(tokens) % 2:
        raise DecodeError("Tanita: the fields come in key,value pairs")
    return {k.strip(): v.strip().strip('"') for k, v in zip(tokens[::2], tokens[1::2],
                                                            strict=True)}  # fmt: skip


def _timestamp(pairs: dict[str, str]) -> datetime | None:
    time = pairs.get("TI", pairs.get("Ti"))
    for key, (layout, prefix) in _DATE_FORMATS.items():
        if key in pairs and time is not None:
            try:
                return datetime.strptime(f"{prefix}{pairs[key]} {time}", f"{layout} %H:%M")
            except ValueError:
                raise DecodeError(f"Tanita: {key} {pairs[key]!r} {time!r} is not a valid "
                                  "date and time") from None  # fmt: skip
    return None


def decode(line: bytes) -> Measurement:
    text = text_of(line)
    if not text.startswith(HEADER):
        raise DecodeError("a Tanita key/value line starts with {0,16,~0,1,~1,1,~2,1,")
    match = _CHECKSUM.search(text)
    if match is None:
        raise DecodeError("the Tanita line does not end with CS and two hex digits")
    body = text[: match.start() + 1]
    if checksum(body) != int(match.group(1), 16):
        raise DecodeError("bad Tanita checksum")
    pairs = _pairs(body[:-1])
    for key, unit in _IMPERIAL.items():
        if key in pairs:
            raise DecodeError(f"the scale sends {unit} ({key}): set it to kg and cm")
    if "Wk" not in pairs:
        raise DecodeError("the Tanita line has no weight (Wk)")
    weight = number(pairs["Wk"], "weight", Decimal(0), MAX_WEIGHT_KG)
    fat = number(pairs["FW"], "fat %", Decimal(0), Decimal(75)) if "FW" in pairs else None
    height = number(pairs["Hm"], "height", Decimal(50), Decimal(250)) if "Hm" in pairs else None
    bmi = number(pairs["MI"], "BMI", Decimal(0), MAX_BMI) if "MI" in pairs else None
    return BodyReading(weight, fat, height, bmi, _timestamp(pairs)).measurement()


def encode(reading: Reading) -> bytes:
    """An SC-330-style line (``Da`` date)."""
    r = expect_type(reading, BodyReading)
    pairs = ['MO,"SC-330"', 'SN,"00000001"', 'ID,"0000000000"']
    if r.timestamp is not None:
        pairs.append(f'Da,"{r.timestamp:%d/%m/%Y}",TI,"{r.timestamp:%H:%M}"')
    pairs += ["Bt,0", "GE,1", "AG,45"]
    if r.height_cm is not None:
        pairs.append(f"Hm,{r.height_cm:.1f}")
    pairs += ["Pt,0.0", f"Wk,{r.weight_kg:.1f}"]
    if r.fat_percent is not None:
        pairs.append(f"FW,{r.fat_percent:.1f}")
    if r.bmi is not None:
        pairs.append(f"MI,{r.bmi:.1f}")
    body = HEADER + ",".join(pairs) + ","
    return f"{body}CS,{checksum(body):02X}\r\n".encode("ascii")
