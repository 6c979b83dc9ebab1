#!/usr/bin/env bash
# Installs a cabin from this repository (`make install`), on a Debian 12 cabin PC, as root:
# the Debian packages, the project in /opt/kiosk with its virtual environment, the kiosk
# account, /etc/kiosk/cabin.toml (the example, only when there is none), the units
# installed and enabled. Idempotent: a second run changes nothing when nothing changed,
# never touches an existing /etc/kiosk/cabin.toml and restarts nothing.
#
# DESTDIR=/some/root: installs into that tree and touches nothing of this machine: no apt,
# no account (the sysusers.d declaration is installed; `systemd-sysusers --root` applies
# it), no virtual environment (one only works at the path where it was built: the cabin
# builds its own), links made by `systemctl --root`, nothing started or reloaded.
# KIOSK_SCREEN: the screen unit enabled on a first install: kiosk-screen.service (sway,
# the default), kiosk-ui.service (text console) or none. KIOSK_PYTHON: the interpreter of
# the virtual environment (default: Debian's /usr/bin/python3).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
# shellcheck source=scripts/cabin-layout.sh
source scripts/cabin-layout.sh
DESTDIR=${DESTDIR:-}
DESTDIR=${DESTDIR%/}
KIOSK_SCREEN=${KIOSK_SCREEN:-kiosk-screen.service}
KIOSK_PYTHON=${KIOSK_PYTHON:-/usr/bin/python3}

say() { echo "install: $*"; }

if [[ -z "$DESTDIR" && $(id -u) -ne 0 ]]; then
    echo "install: run as root (sudo make install), or into a tree with DESTDIR=..." >&2
    exit 1
fi
if [[ -n "$DESTDIR" && "$DESTDIR" != /* ]]; then
    echo "install: DESTDIR must be an absolute path" >&2
    exit 1
fi
case "$KIOSK_SCREEN" in
    kiosk-screen.service | kiosk-ui.service | none) ;;
    *) echo "install: KIOSK_SCREEN is kiosk-screen.service, kiosk-ui.service or none" >&2; exit 1 ;;
esac
if [[ "$REPO" -ef "$DESTDIR$PREFIX" ]]; then
    echo "install: run it from a clone of the repository, not from $PREFIX" >&2
    exit 1
fi

# 1. Debian packages (none under DESTDIR: they belong to the target system).
if [[ -z "$DESTDIR" ]]; then
    KIOSK_DEBIAN_PACKAGES=${KIOSK_DEBIAN_PACKAGES:-scripts/cabin-packages.txt} scripts/system-deps.sh
fi

# 2. The kiosk account: declared for systemd-sysusers, which creates it (idempotent).
install -C -D -m 0644 systemd/sysusers/kiosk.conf "$DESTDIR/usr/local/lib/sysusers.d/kiosk.conf"
if [[ -z "$DESTDIR" ]]; then
    systemd-sysusers /usr/local/lib/sysusers.d/kiosk.conf
fi

# 3. The project in /opt/kiosk, root's and read-only to the cabin, and its virtual
# environment, rebuilt only when the copied sources changed.
mapfile -t package_dirs < <("$KIOSK_PYTHON" - <<'EOF'
import fnmatch, pathlib, tomllib
patterns = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["tool"]["setuptools"][
    "packages"]["find"]["include"]
for d in sorted(pathlib.Path(".").iterdir()):
    if d.is_dir() and (d / "__init__.py").exists() and any(fnmatch.fnmatch(d.name, p) for p in patterns):
        print(d.name)
EOF
)
items=("${PROJECT_FILES[@]}" "${PROJECT_DIRS[@]}" "${package_dirs[@]}")
sources_sha256() {
    find "$@" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z |
        xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
sha=$(sources_sha256 "${items[@]}")
stamp="$DESTDIR$PREFIX/.installed-sources"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$sha" ]] && [[ -n "$DESTDIR" || -x "$VENV/bin/kiosk" ]]; then
    say "$PREFIX: unchanged"
else
    say "$PREFIX: copying ${items[*]}"
    install -d -m 0755 "$DESTDIR$PREFIX"
    for item in "${items[@]}"; do rm -rf "$DESTDIR${PREFIX:?}/${item:?}"; done
    tar -c --exclude=__pycache__ --exclude='*.pyc' --mode=u+rwX,go+rX,go-w "${items[@]}" |
        tar -x --no-same-owner -C "$DESTDIR$PREFIX"
    rm -f "$stamp"
    if [[ -z "$DESTDIR" ]]; then
        if [[ ! -x "$VENV/bin/python" ]]; then
            say "creating $VENV"
            "$KIOSK_PYTHON" -m venv "$VENV"
        fi
        say "installing the project into $VENV (without its test extras)"
        # Built from the copy, so the clone gets no root-owned build/ or egg-info. pip's index
        # configuration can warn about absent mirrors: keep real errors only (as the Makefile).
        "$VENV/bin/pip" install --quiet --disable-pip-version-check "$PREFIX" 2>&1 |
            { grep -v "^WARNING: Location '.*' is ignored" || true; }
        rm -rf "$PREFIX/build" "$PREFIX"/*.egg-info
    else
        say "no virtual environment under DESTDIR: run make install on the cabin to build $VENV"
    fi
    echo "$sha" >"$stamp"
fi

# 4. Units, drop-in and their support files (same content: left as they are).
for entry in "${CABIN_FILES[@]}"; do
    read -r src dst <<<"$entry"
    install -C -D -m 0644 "$src" "$DESTDIR$dst"
done

# 5. /etc/kiosk and /var/lib/kiosk, and the configuration: the example only when there is
# none. systemd-tmpfiles gives them their owners and modes (tmpfiles/kiosk.conf).
install -C -D -m 0644 systemd/tmpfiles/kiosk.conf "$DESTDIR/usr/local/lib/tmpfiles.d/kiosk.conf"
install -d -m 0750 "$DESTDIR/etc/kiosk"
install -d -m 0700 "$DESTDIR/var/lib/kiosk"
if [[ -e "$DESTDIR$CONFIG" ]]; then
    say "$CONFIG exists: left as it is"
else
    install -m 0640 "$EXAMPLE" "$DESTDIR$CONFIG"
    say "$CONFIG: the example; edit it (every line marked CHANGE)"
fi
if [[ -z "$DESTDIR" ]]; then
    systemd-tmpfiles --create /usr/local/lib/tmpfiles.d/kiosk.conf
fi

# 6. The kiosk user's manager (its PipeWire) runs from boot, without a login.
if systemd_running; then
    loginctl enable-linger kiosk
else
    [[ -e "$DESTDIR$LINGER" ]] || install -D -m 0644 /dev/null "$DESTDIR$LINGER"
fi

# 7. Enable the daemon, and one screen unit on a first install (a second run keeps the
# technician's choice). Nothing is started: the technician edits the configuration first.
if systemd_running; then
    systemctl daemon-reload
    if [[ -S /run/udev/control ]]; then
        udevadm control --reload
        udevadm trigger --subsystem-match=gpio --action=add
    fi
fi
target_systemctl enable kiosk.service
screen_enabled=
for unit in "${SCREEN_UNITS[@]}"; do
    if target_systemctl --quiet is-enabled "$unit"; then screen_enabled=$unit; fi
done
if [[ -n "$screen_enabled" ]]; then
    say "screen: $screen_enabled stays enabled"
elif [[ "$KIOSK_SCREEN" != none ]]; then
    target_systemctl enable "$KIOSK_SCREEN"
    # sway's unit is wanted by graphical.target, Debian's default: say so if it is not.
    if [[ -z "$DESTDIR" && "$KIOSK_SCREEN" == kiosk-screen.service ]] &&
        [[ "$(systemctl get-default)" != graphical.target ]]; then
        systemctl set-default graphical.target
    fi
fi

say "done. Next: edit $CONFIG, check it (runuser -u kiosk -- $VENV/bin/kiosk config check" \
    "$CONFIG), then systemctl start kiosk.service (or reboot: the screen starts with it)."
