#!/usr/bin/env bash
# Cross-compiles the Windows (amd64) binary on Linux with Debian's mingw-w64,
# without Docker or fyne-cross:
#   dist/windows/diptych.exe                 GUI subsystem, version-stamped, stripped
#   dist/windows/lib/onnxruntime.dll         CPU ONNX Runtime from onnxruntime-node (SHA-256 pinned)
#   dist/diptych_<version>_windows_amd64.zip the two above (when zip is installed)
# Installs gcc-mingw-w64-x86-64-posix when missing (as root; otherwise prints
# the apt-get line). A cold build takes about 8 minutes on 2 cores (cgo: GLFW,
# OpenGL, SQLite); later ones reuse the Go build cache.
#
# Environment: VERSION (default git describe, as the Makefile), OUT_DIR (dist),
# NO_RUNTIME=1 (build only the .exe; CI uses this to skip the 113 MB npm download).
set -euo pipefail
cd "$(dirname "$0")/.."

TAGS="sqlite_fts5 migrated_fynedo"
OUT_DIR="${OUT_DIR:-dist}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
ORT_VERSION="${ORT_VERSION:-1.30.0}"
ORT_DLL_SHA256="${ORT_DLL_SHA256:-508c362f5673483dd3a086379c392795b2e42d10d5e6f3f90ebd7ac21c97af67}"
CC_WIN=x86_64-w64-mingw32-gcc

if ! command -v "$CC_WIN" >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "build_windows: $CC_WIN is missing; run: sudo apt-get install -y gcc-mingw-w64-x86-64-posix" >&2
    exit 1
  fi
  echo "build_windows: installing gcc-mingw-w64-x86-64-posix" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64-posix >/dev/null
fi

out="$OUT_DIR/windows"
mkdir -p "$out/lib"
echo "build_windows: go build GOOS=windows GOARCH=amd64 (version $VERSION)" >&2
start=$SECONDS
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC="$CC_WIN" \
  go build -tags "$TAGS" -ldflags "-H windowsgui -s -w -X main.version=$VERSION" -o "$out/diptych.exe" .
echo "build_windows: built $out/diptych.exe in $((SECONDS - start))s: $(file -b "$out/diptych.exe" 2>/dev/null || true)" >&2

[ "${NO_RUNTIME:-}" = 1 ] && exit 0

# The CPU ONNX Runtime for Windows from the same npm package as Linux's
# (tools/fetch_ort.sh), cached in .runtime/windows-x64/. It needs the Microsoft
# Visual C++ 2015-2022 redistributable (MSVCP140.dll, VCRUNTIME140*.dll).
dll=".runtime/windows-x64/onnxruntime.dll"
check() { echo "$ORT_DLL_SHA256  $1" | sha256sum -c --status; }
if ! { [ -f "$dll" ] && check "$dll"; }; then
  command -v npm >/dev/null || { echo "build_windows: npm is needed to fetch onnxruntime.dll (apt-get install npm)" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "build_windows: npm pack onnxruntime-node@$ORT_VERSION" >&2
  (cd "$tmp" && npm pack "onnxruntime-node@$ORT_VERSION" --silent >/dev/null)
  tar -xzf "$tmp/onnxruntime-node-$ORT_VERSION.tgz" -C "$tmp" package/bin/napi-v6/win32/x64/onnxruntime.dll
  check "$tmp/package/bin/napi-v6/win32/x64/onnxruntime.dll" ||
    { echo "build_windows: SHA-256 mismatch for win32/x64/onnxruntime.dll from onnxruntime-node@$ORT_VERSION (want $ORT_DLL_SHA256)" >&2; exit 1; }
  mkdir -p "$(dirname "$dll")"
  install -m 0644 "$tmp/package/bin/napi-v6/win32/x64/onnxruntime.dll" "$dll"
fi
install -m 0644 "$dll" "$out/lib/onnxruntime.dll"
if command -v zip >/dev/null; then
  zipfile=$(realpath -m "$OUT_DIR/diptych_${VERSION}_windows_amd64.zip")
  rm -f "$zipfile"
  (cd "$out" && zip -q -r "$zipfile" diptych.exe lib)
  echo "build_windows: wrote $zipfile" >&2
fi
