#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with gnome-keyring's Secret Service unlocked, so that keytar
# (the OS keychain vault) works on a headless machine. Usage: scripts/with-keyring.sh <command> [args…]
#
# The daemon keeps its keyring files in a throw-away directory (XDG_DATA_HOME for the daemon only), so the run
# neither reads nor writes the user's real login keyring (~/.local/share/keyrings), and a login keyring left
# behind with another password cannot make the collection stay locked. The command itself keeps its environment.
set -euo pipefail
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "with-keyring: needs dbus-run-session and gnome-keyring-daemon (Debian: apt-get install -y dbus gnome-keyring libsecret-1-dev)" >&2
  exit 1
fi
keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/keyhole-keyring.XXXXXX")"
trap 'rm -rf "$keyring_home"' EXIT
# Not exec: the trap removes the throw-away keyring afterwards. The exit status is the command's.
dbus-run-session -- bash -c '
  echo -n "keyhole-test" | XDG_DATA_HOME="$0" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' "$keyring_home" "$@"
