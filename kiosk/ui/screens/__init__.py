"""The touchscreen's screens, one decision each."""
