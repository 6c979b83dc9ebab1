"""The cabins' side of the hub: enrolment, their WebSocket, presence, what they send."""
