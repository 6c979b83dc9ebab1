"""The shared bounded poll of the tests."""

from __future__ import annotations

import pytest

from tests.polling import until


async def test_returns_the_first_truthy_value_awaiting_coroutines() -> None:
    calls = []

    async def third_time() -> str:
        calls.append(1)
        return "ready" if len(calls) >= 3 else ""

    assert await until(third_time, 5.0) == "ready"
    assert len(calls) == 3


async def test_fails_naming_what_it_waited_for() -> None:
    with pytest.raises(AssertionError, match=r"after 0\.05 s waiting for the door"):
        await until(lambda: False, 0.05, "the door")
