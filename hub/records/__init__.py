"""The consultation record (issue 17) at the hub: completion, assembly, delivery (mail,
FHIR), retention, the report's draft and signature, the doctor's history, and the
`kiosk record` and `kiosk hub records` commands (``cli``). The record's model, the INS
identity and the PDF are in hub/shared (the cabin builds and prints them too). Each
module says its public API at its top."""
