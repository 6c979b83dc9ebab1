"""What the cabin and the hub both import: the wire protocol between them and the rules both
sides apply (opening hours, practitioner identifiers, the hygiene chain, config files,
logs, systemd notification, supervised tasks). The cabin imports nothing else of the hub;
the hub imports nothing of the cabin."""
