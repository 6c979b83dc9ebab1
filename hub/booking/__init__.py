"""Booking: slots from each site's hours, the coordinator's screen and the booking API."""
