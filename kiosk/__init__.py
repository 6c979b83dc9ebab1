"""The cabin daemon: lifecycle, persistence, event bus, HTTP API, touchscreen UI."""
