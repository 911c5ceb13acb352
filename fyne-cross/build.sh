#!/usr/bin/env bash
# Builds Diptych packages for Windows and macOS with fyne-cross, which runs the
# Fyne toolchain inside the fyneio/fyne-cross-images containers. It needs a
# container engine (Docker or Podman) and network access to Docker Hub; see
# README.md beside this script. On a machine without one, use
# tools/build_windows.sh (mingw-w64) for the Windows binary instead.
#
#   fyne-cross/build.sh windows            -> fyne-cross/dist/windows-amd64/Diptych.exe.zip
#   fyne-cross/build.sh darwin SDK_DIR     -> fyne-cross/dist/darwin-{amd64,arm64}/Diptych.app
#   fyne-cross/build.sh all SDK_DIR
#
# Environment: VERSION (default git describe), FYNE_CROSS (the fyne-cross
# binary; default from PATH or $(go env GOPATH)/bin), ENGINE (docker|podman).
set -euo pipefail
cd "$(dirname "$0")/.."

FYNE_CROSS_VERSION=v1.6.1
target="${1:-}"
sdk="${2:-${MACOSX_SDK_PATH:-}}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
FYNE_CROSS="${FYNE_CROSS:-$(command -v fyne-cross || echo "$(go env GOPATH)/bin/fyne-cross")}"

usage() { sed -n '8,10p' "$0" | sed 's/^#   /usage: /' >&2; exit 2; }
[ -n "$target" ] || usage

if [ ! -x "$FYNE_CROSS" ]; then
  echo "fyne-cross: installing github.com/fyne-io/fyne-cross@$FYNE_CROSS_VERSION" >&2
  go install "github.com/fyne-io/fyne-cross@$FYNE_CROSS_VERSION"
  FYNE_CROSS="$(go env GOPATH)/bin/fyne-cross"
fi
engine=()
if [ -n "${ENGINE:-}" ]; then
  engine=(-engine "$ENGINE")
elif [ "$(uname -s)" != Darwin ] && ! command -v docker >/dev/null && ! command -v podman >/dev/null; then
  echo "fyne-cross: needs Docker or Podman (none found); for Windows use tools/build_windows.sh" >&2
  exit 1
fi

# App name, ID, version, build number and icon come from FyneApp.toml. The
# build tags match the Makefile; the ldflags stamp `diptych --version`.
common=("${engine[@]}" -tags sqlite_fts5,migrated_fynedo -ldflags "-X main.version=$VERSION")

windows() {
  "$FYNE_CROSS" windows -arch=amd64 "${common[@]}" .
}

darwin() {
  if [ "$(uname -s)" = Darwin ]; then
    # On a Mac fyne-cross builds with the host's fyne CLI and Xcode (-local).
    "$FYNE_CROSS" darwin -arch=amd64,arm64 "${common[@]}" .
    return
  fi
  [ -n "$sdk" ] && [ -d "$sdk" ] || {
    echo "fyne-cross: darwin needs the macOS SDK folder (MacOSX<ver>.sdk) as the second argument;" \
      "extract it with: $FYNE_CROSS darwin-sdk-extract -xcode-path Command_Line_Tools_for_Xcode_<ver>.dmg" >&2
    exit 1
  }
  "$FYNE_CROSS" darwin -arch=amd64,arm64 -macosx-sdk-path "$(cd "$sdk" && pwd)" "${common[@]}" .
}

case "$target" in
  windows) windows ;;
  darwin) darwin ;;
  all) windows; darwin ;;
  *) usage ;;
esac
