"""Booking: slots from each site's hours, the coordinator's screen and the booking API.

slots.py (pure: hours → slots), form.py (a booking request, checked field by field in
French), bookings.py (the store: book, cancel, a site's day; feed rows and audit in the
same transaction), tokens.py (platforms' bearer tokens), access.py (who is asking),
api.py (/api/v1/), web.py (/booking and its static files), cli.py (`kiosk hub tokens`)."""
