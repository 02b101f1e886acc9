#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with gnome-keyring's Secret Service unlocked, so that keytar
# (the OS keychain vault) works on a headless machine. Usage: scripts/with-keyring.sh <command> [args…]
set -euo pipefail
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "with-keyring: needs dbus-run-session and gnome-keyring-daemon (Debian: apt-get install -y dbus gnome-keyring libsecret-1-dev)" >&2
  exit 1
fi
exec dbus-run-session -- bash -c 'echo -n "keyhole-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"' with-keyring "$@"
