"""The cabin's link to the hub: one WebSocket out, a durable outbox, pushed appointments
and hours, and the doctor's relayed signaling."""
