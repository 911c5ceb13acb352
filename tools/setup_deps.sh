#!/usr/bin/env bash
# Installs the Debian packages Diptych needs to build and test, when missing.
# Works as root on a bare Debian machine; as another user it prints the
# apt-get command to run instead.
set -euo pipefail
pkgs=(gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev
      libxi-dev libxxf86vm-dev libxext-dev xvfb xauth x11-apps xdotool imagemagick ca-certificates
      desktop-file-utils appstream dpkg-dev zip)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Tools that may come from elsewhere than Debian (a Node.js install, say).
for tool in npm git; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v go >/dev/null; then
  echo "setup: Go 1.26 or newer is needed (https://go.dev/dl); Debian's golang package is too old" >&2
  exit 1
fi
