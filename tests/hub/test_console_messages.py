"""The console's messages to the cabin, validated without I/O (at the hub, then again at
the cabin)."""

from __future__ import annotations

import json

import pytest

from hub.shared import console_messages as m


@pytest.mark.parametrize(
    "message",
    [
        {"type": "join"},
        {"type": "leave"},
        {"type": "answer", "sdp": "v=0", "generation": 1},
        {
            "type": "ice_candidate",
            "generation": 1,
            "candidate": "candidate:1 1 udp 1 1.2.3.4 5 typ host",
            "sdp_mid": "0",
            "sdp_mline_index": 0,
        },
        {"type": "ice_candidate", "generation": 1, "candidate": None},
        {"type": "ice_restart", "generation": 2},
        {"type": "end"},
        {"type": "measure", "instrument": "tensiometre"},
        {"type": "instruction", "text": "Respirez profondément"},
        {"type": "chat", "text": "Bonjour"},
        {"type": "prescription", "prescription": {"items": []}},
        {"type": "show_exam_camera", "on": True, "id": "x1"},
    ],
)
def test_every_doctor_message_parses(message: dict[str, object]) -> None:
    parsed = m.parse_doctor_message(json.dumps(message))
    assert parsed.type == message["type"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"\xff\xfe", "not JSON"),
        ("null", "JSON object"),
        ('{"type": "answer", "sdp": "v=0", "generation": -1}', "generation"),
        ('{"type": "chat", "text": "' + "x" * (m.MAX_CHAT_CHARS + 1) + '"}', "text"),
        ('{"type": "show_exam_camera", "on": "maybe"}', "on"),
        ('{"type": "ice_candidate", "generation": 0, "sdp_mline_index": 99}', "sdp_mline_index"),
        ("x" * (m.MAX_MESSAGE_BYTES + 1), "too large"),
        # The free-text summary is gone: the structured report, signed at the hub, is it.
        ('{"type": "summary", "text": "Rhinopharyngite."}', "summary"),
    ],
)
def test_invalid_messages_are_refused_with_a_reason(raw: str | bytes, fragment: str) -> None:
    with pytest.raises(m.MessageInvalid) as caught:
        m.parse_doctor_message(raw)
    assert fragment in caught.value.message


def test_error_names_the_message_it_answers() -> None:
    with pytest.raises(m.MessageInvalid) as caught:
        m.parse_doctor_message('{"type": "measure", "id": "req-7"}')
    assert caught.value.in_reply_to == "req-7"
