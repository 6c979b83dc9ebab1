#!/usr/bin/env bash
# Removes what scripts/install.sh added (`make uninstall`, as root, or DESTDIR=... for a tree):
# the units (stopped and disabled first), their support files, /opt/kiosk with its virtual
# environment, the linger flag, and /etc/kiosk/cabin.toml when it is still the example.
# Kept, on purpose:
# - an edited /etc/kiosk/cabin.toml (the site's configuration);
# - /var/lib/kiosk: the cabin's database and its disinfection log, which inspections may
#   ask for (kept 5 years: `kiosk hygiene export` it before deleting it by hand);
# - the kiosk account and the gpio group (files may still belong to them; Debian's
#   packages never delete a system account either: `userdel kiosk` by hand);
# - the Debian packages (other software may use them).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/cabin-layout.sh
source scripts/cabin-layout.sh
DESTDIR=${DESTDIR:-}
DESTDIR=${DESTDIR%/}

say() { echo "uninstall: $*"; }

if [[ -z "$DESTDIR" && $(id -u) -ne 0 ]]; then
    echo "uninstall: run as root (sudo make uninstall), or on a tree with DESTDIR=..." >&2
    exit 1
fi

# 1. Stop and disable the units while their files (and [Install] sections) are there.
installed=()
for unit in "${CABIN_UNITS[@]}"; do
    if [[ -e "$DESTDIR$UNIT_DIR/$unit" ]]; then installed+=("$unit"); fi
done
if [[ ${#installed[@]} -gt 0 ]]; then
    if systemd_running; then
        systemctl stop "${installed[@]}"
    fi
    target_systemctl disable "${installed[@]}"
fi
if systemd_running && [[ -e "$LINGER" ]]; then
    loginctl disable-linger kiosk
fi
rm -f "$DESTDIR$LINGER"

# 2. The configuration, if nobody edited it: compared with the example that was installed.
if [[ -f "$DESTDIR$CONFIG" ]]; then
    if cmp -s "$DESTDIR$CONFIG" "$DESTDIR$PREFIX/$EXAMPLE"; then
        rm -f "$DESTDIR$CONFIG"
    else
        say "$CONFIG was edited: kept"
    fi
fi
# /etc/kiosk and /var/lib/kiosk go only if empty (nothing edited, the daemon never ran).
for dir in /etc/kiosk /var/lib/kiosk; do
    if [[ -d "$DESTDIR$dir" ]]; then rmdir --ignore-fail-on-non-empty "$DESTDIR$dir"; fi
done

# 3. The units' and support files, then the directories install created, if empty.
for entry in "${CABIN_FILES[@]}"; do
    read -r _ dst <<<"$entry"
    rm -f "$DESTDIR$dst"
done
for dir in "${CABIN_DIRS[@]}"; do
    if [[ -d "$DESTDIR$dir" ]]; then rmdir --ignore-fail-on-non-empty "$DESTDIR$dir"; fi
done

# 4. The project and its virtual environment.
rm -rf "$DESTDIR${PREFIX:?}"

if systemd_running; then
    systemctl daemon-reload
    if [[ -S /run/udev/control ]]; then udevadm control --reload; fi
fi
kept=()
for path in "$CONFIG" /var/lib/kiosk; do
    if [[ -e "$DESTDIR$path" ]]; then kept+=("$DESTDIR$path"); fi
done
[[ -n "$DESTDIR" ]] || kept+=("the kiosk account")
say "done; kept: ${kept[*]:-nothing}"
