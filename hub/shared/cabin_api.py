"""Names of the cabin's local API used by programs beside the daemon (its touchscreen, the
demo's simulated patients): the header that carries the touchscreen's token, and the
files of the state directory where the daemon leaves that token and its URL."""

from __future__ import annotations

UI_TOKEN_HEADER = "X-Kiosk-UI-Token"  # noqa: S105 - a header name
UI_TOKEN_FILE = "ui-token"  # noqa: S105 - a file name
RUNTIME_FILE = "runtime.json"
