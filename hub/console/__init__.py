"""The doctors' console: the live queue, claiming a patient, the relayed call signaling."""
