"""The WebRTC consultation call with the doctor (aiortc)."""
