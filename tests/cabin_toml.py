"""The smallest valid cabin configuration, for tests that start components or a daemon."""

from __future__ import annotations

from pathlib import Path


def base_toml(
    state_dir: Path | str,
    *,
    cabin_id: str = "test-01",
    name: str = "Cabine de test",
    network: str = "",
) -> str:
    """Always open, HTTP on a free loopback port, state in ``state_dir``; ``network``: more
    lines of [network]. Append the sections a test needs ([[instruments]], [printer]...)."""
    return f"""
[site]
cabin_id = "{cabin_id}"
name = "{name}"
address = "1 rue de la Paix, 77000 Melun, France"

[hours]
always_open = true

[network]
listen_host = "127.0.0.1"
listen_port = 0
{network}

[storage]
state_dir = "{state_dir}"
"""


# A blood-pressure monitor, a thermometer and an oximeter, all simulated.
SIMULATED_INSTRUMENTS = """
[[instruments]]
name = "tensiometre"
kind = "blood_pressure"
transport = "simulated"

[[instruments]]
name = "thermometre"
kind = "thermometer"
transport = "simulated"

[[instruments]]
name = "oxymetre"
kind = "pulse_oximeter"
transport = "simulated"
"""
