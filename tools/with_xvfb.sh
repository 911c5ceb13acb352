#!/usr/bin/env bash
# Runs a command with DISPLAY pointing at a private Xvfb server, which is
# stopped afterwards. Without Xvfb the command runs as is (GUI tests then skip).
set -uo pipefail
# Fyne parses LANG as a BCP 47 tag and logs an error for "C"/"POSIX".
case "${LANG:-C}" in C|C.*|POSIX) export LANG=en_US.UTF-8 ;; esac
if ! command -v Xvfb >/dev/null; then
  exec "$@"
fi
for n in $(seq 90 120); do
  [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { disp=$n; break; }
done
Xvfb ":$disp" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
xpid=$!
trap 'kill $xpid 2>/dev/null; wait $xpid 2>/dev/null' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$disp" ] && break; sleep 0.1; done
export DISPLAY=":$disp"
"$@"
