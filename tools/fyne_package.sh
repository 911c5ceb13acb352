#!/usr/bin/env bash
# Makes the `fyne package` Linux tarball: dist/diptych_<version>_linux_amd64.tar.xz
# holding usr/local/bin/diptych, the .desktop file, the icon and a Makefile
# (`sudo make install` or `make user-install`). Name, ID, version and icon come
# from FyneApp.toml; `diptych --version` is stamped from git describe.
# `fyne package` bumps [Details] Build in FyneApp.toml on every run; this
# script puts the file back as it was. The tarball has no ONNX Runtime (see
# packaging/README-install.md).
#
# Environment: VERSION (default git describe), RELEASE=0 for a quicker
# non-release build (not stripped, no hardening flags), OUT_DIR (dist).
set -euo pipefail
cd "$(dirname "$0")/.."

FYNE_TOOLS_VERSION=v1.7.4
OUT_DIR="${OUT_DIR:-dist}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
fyne="$(go env GOPATH)/bin/fyne"
if ! "$fyne" version 2>/dev/null | grep -q "${FYNE_TOOLS_VERSION#v}"; then
  echo "fyne_package: go install fyne.io/tools/cmd/fyne@$FYNE_TOOLS_VERSION" >&2
  go install "fyne.io/tools/cmd/fyne@$FYNE_TOOLS_VERSION"
fi

mkdir -p build "$OUT_DIR"
cp FyneApp.toml build/FyneApp.toml.orig
trap 'cp build/FyneApp.toml.orig FyneApp.toml' EXIT
release=(--release)
[ "${RELEASE:-1}" = 0 ] && release=()
# fyne merges -ldflags from GOFLAGS into its own (-s -w in release mode).
GOFLAGS="${GOFLAGS:-} -ldflags=-X=main.version=$VERSION" \
  "$fyne" package --target linux "${release[@]}" --tags sqlite_fts5
out="$OUT_DIR/diptych_${VERSION}_linux_amd64.tar.xz"
mv Diptych.tar.xz "$out"
echo "fyne_package: wrote $out" >&2
