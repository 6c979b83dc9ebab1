#!/usr/bin/env bash
# Installs the Debian packages the cabin needs, or says exactly how to.
# Idempotent: when everything is there it only runs dpkg-query.
set -euo pipefail
cd "$(dirname "$0")/.."
LIST=${KIOSK_DEBIAN_PACKAGES:-scripts/debian-packages.txt}
[[ -r "$LIST" ]] || { echo "cannot read $LIST" >&2; exit 1; }
mapfile -t PACKAGES < <(grep -v "^\s*#" "$LIST" | awk "NF {print \$1}")

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "Missing Debian packages. Install them with:" >&2
    echo "sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
