"""Structured logs: one JSON object per line on stdout (journald keeps them).

Never log patient data: names, birth dates, answers, measurements and prescriptions
stay out of log messages; log ids and states only."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def setup(level: str = "INFO", stream: object = None) -> None:
    handler = logging.StreamHandler(stream or sys.stdout)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log would write URLs (appointment ids): keep it quiet.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # aioice logs each ICE candidate pair check (a dozen lines a call, with the doctor's
    # network addresses); video.peer logs the call's connection states.
    logging.getLogger("aioice").setLevel(logging.WARNING)
