"""Message validation and doctor authentication, without I/O."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from argon2 import PasswordHasher

from hub.shared import console_messages as m
from video.auth import DoctorAuth, RateLimiter, TooManyAttempts, hash_password
from video.config import DoctorAccount


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
        {"type": "summary", "text": "Rhinopharyngite."},
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


def test_rate_limiter_window() -> None:
    now = [0.0]
    limiter = RateLimiter(allowed=2, window_s=60, clock=lambda: now[0])
    limiter.failed(["a"])
    limiter.failed(["a"])
    with pytest.raises(TooManyAttempts):
        limiter.check(["a"])
    limiter.check(["b"])  # another key is not affected
    now[0] = 61.0
    limiter.check(["a"])  # the window has passed


async def test_sessions_expire_and_log_out() -> None:
    now = [0.0]
    account = DoctorAccount(
        username="dr", display_name="Dr", password_hash=hash_password("pw-123456")
    )
    auth = DoctorAuth([account], clock=lambda: now[0])
    assert await auth.login("dr", "wrong", "1.2.3.4") is None
    assert await auth.login("nobody", "pw-123456", "1.2.3.4") is None
    session = await auth.login("dr", "pw-123456", "1.2.3.4")
    assert session is not None
    assert auth.session(session.session_id) is session
    assert auth.session("forged") is None
    auth.logout(session.session_id)
    assert auth.session(session.session_id) is None
    session = auth.open_session(account)
    now[0] = 13 * 3600.0
    assert auth.session(session.session_id) is None


def test_cli_hash_password_verifies() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "doctor", "hash-password", "--stdin"],
        input="un mot de passe solide\n",
        capture_output=True,
        text=True,
        check=True,
    )
    digest = result.stdout.strip()
    assert digest.startswith("$argon2id$")
    assert PasswordHasher().verify(digest, "un mot de passe solide")
    short = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "doctor", "hash-password", "--stdin"],
        input="court\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert short.returncode == 2 and "trop court" in short.stderr
