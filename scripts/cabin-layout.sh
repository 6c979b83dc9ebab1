# Where a cabin install puts things; sourced by scripts/install.sh and scripts/uninstall.sh
# so that uninstall removes exactly what install adds. Not executable on its own.
# The variables are used by the scripts that source this file:
# shellcheck shell=bash disable=SC2034

# The project and its virtual environment. The units name this path (ExecStart, sway.conf):
# it is not configurable.
PREFIX=/opt/kiosk
VENV=$PREFIX/.venv
# What of the repository goes to $PREFIX: what pip builds the project from (pyproject.toml,
# README.md, the packages pyproject.toml includes) and what the units and the technician
# read there (systemd/, config/, scripts/). Not .git, .venv, tests/, bench/, docs/.
PROJECT_FILES=(pyproject.toml README.md)
PROJECT_DIRS=(config systemd scripts)

# Files installed outside $PREFIX: "source in the repository" "destination" lines. The
# units go to /usr/local/lib/systemd/system, the search path systemd keeps for software
# installed locally (not by a Debian package); /etc/systemd/system stays the technician's,
# for `systemctl edit` overrides that win over these. sysusers.d, tmpfiles.d and
# udev/rules.d have the same /usr/local/lib directories. PipeWire reads /etc/pipewire only.
# Cabin units only, listed one by one (other units of systemd/ are not the cabin's).
UNIT_DIR=/usr/local/lib/systemd/system
CABIN_FILES=(
    "systemd/kiosk.service $UNIT_DIR/kiosk.service"
    "systemd/kiosk.service.d/screen.conf $UNIT_DIR/kiosk.service.d/screen.conf"
    "systemd/kiosk-screen.service $UNIT_DIR/kiosk-screen.service"
    "systemd/kiosk-ui.service $UNIT_DIR/kiosk-ui.service"
    "systemd/sysusers/kiosk.conf /usr/local/lib/sysusers.d/kiosk.conf"
    "systemd/tmpfiles/kiosk.conf /usr/local/lib/tmpfiles.d/kiosk.conf"
    "systemd/udev/60-kiosk-gpio.rules /usr/local/lib/udev/rules.d/60-kiosk-gpio.rules"
    "systemd/audio/50-kiosk-echo-cancel.conf /etc/pipewire/pipewire.conf.d/50-kiosk-echo-cancel.conf"
)
# Directories install may create for them, deepest first: uninstall removes those left
# empty (not Debian's own: /opt, /usr/local/lib, nor /var/lib/systemd/linger, which is
# systemd-logind's StateDirectory: removed under a running logind, linger fails).
CABIN_DIRS=(
    "$UNIT_DIR/kiosk.service.d"
    "$UNIT_DIR"
    /usr/local/lib/systemd
    /usr/local/lib/sysusers.d
    /usr/local/lib/tmpfiles.d
    /usr/local/lib/udev/rules.d
    /usr/local/lib/udev
    /etc/pipewire/pipewire.conf.d
    /etc/pipewire
)
CABIN_UNITS=(kiosk.service kiosk-screen.service kiosk-ui.service)
SCREEN_UNITS=(kiosk-screen.service kiosk-ui.service)

CONFIG=/etc/kiosk/cabin.toml
EXAMPLE=config/cabin.example.toml
# logind starts the kiosk user's manager (its PipeWire) at boot when this file exists.
LINGER=/var/lib/systemd/linger/kiosk

# True when systemd is PID 1 here (not a chroot, a container build or a DESTDIR install).
systemd_running() { [[ -z "${DESTDIR:-}" && -d /run/systemd/system ]]; }

# systemctl on the target: offline on the DESTDIR tree (links only, nothing started).
target_systemctl() {
    if [[ -n "${DESTDIR:-}" ]]; then
        systemctl --root="$DESTDIR" "$@"
    else
        systemctl "$@"
    fi
}
