#!/usr/bin/env bash
# Starts cupsd if it is not running and creates the cups-pdf queue "PDF".
# Idempotent. Printed files land in ~/PDF/ of the job's owner (root: /root/PDF).
set -euo pipefail
running() { lpstat -r 2>/dev/null | grep -q "is running"; }
if ! running; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "cupsd is not running; start it with: sudo systemctl start cups" >&2
        exit 1
    fi
    if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
        systemctl start cups
    else
        mkdir -p /run/cups
        /usr/sbin/cupsd
    fi
    for _ in $(seq 1 100); do running && break; sleep 0.1; done
    running || { echo "cupsd did not start" >&2; exit 1; }
fi
if ! lpstat -p PDF >/dev/null 2>&1; then
    lpadmin -p PDF -E -v cups-pdf:/ -m lsb/usr/cups-pdf/CUPS-PDF_opt.ppd
fi
cupsenable PDF >/dev/null 2>&1 || true
cupsaccept PDF >/dev/null 2>&1 || true
