"""The UI token file: private to the daemon's user, replaced whole at every start."""

from __future__ import annotations

import stat
from pathlib import Path

from kiosk.ui_auth import FILENAME, create_token, read_token


def test_token_file_is_private_and_replaced_whole(tmp_path: Path) -> None:
    first = create_token(tmp_path)
    assert read_token(tmp_path) == first
    assert stat.S_IMODE((tmp_path / FILENAME).stat().st_mode) == 0o600
    second = create_token(tmp_path)
    assert second != first and read_token(tmp_path) == second
    assert stat.S_IMODE((tmp_path / FILENAME).stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILENAME]  # no partial file left
