"""The patient's touchscreen: a Textual app in its own process, talking to the daemon
over its local HTTP API and event WebSocket (see README "The touchscreen")."""
