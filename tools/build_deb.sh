#!/usr/bin/env bash
# Builds dist/diptych_<version>_amd64.deb from packaging/:
#   /usr/lib/diptych/diptych                       the binary (version-stamped, stripped)
#   /usr/lib/diptych/lib/libonnxruntime.so*        the CPU ONNX Runtime, found "beside the executable"
#   /usr/bin/diptych -> ../lib/diptych/diptych     (os.Executable resolves the link)
#   /usr/share/applications/io.github.diptych.desktop
#   /usr/share/metainfo/io.github.diptych.metainfo.xml
#   /usr/share/icons/hicolor/{16..512}x*/apps/io.github.diptych.png, scalable/apps/io.github.diptych.svg
#   /usr/share/doc/diptych/CHANGELOG.md
# Depends: computed with dpkg-shlibdeps for the binary and the runtime library,
# plus the X11 libraries GLFW dlopens at run time.
#
# Environment: BIN (a prebuilt binary to package instead of building one),
# VERSION (stamped into the binary; default git describe, as the Makefile),
# DEB_VERSION (the package version; default derived from VERSION),
# DEB_MAINTAINER, OUT_DIR (default dist).
# Needs: go (unless BIN), dpkg-deb, dpkg-shlibdeps (dpkg-dev), desktop-file-validate
# (desktop-file-utils) and appstreamcli (appstream), installed here when missing
# and run as root, and the runtime library (tools/fetch_ort.sh, run here).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev)
command -v desktop-file-validate >/dev/null || missing+=(desktop-file-utils)
command -v appstreamcli >/dev/null || missing+=(appstream)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "build_deb: missing tools; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "build_deb: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

APP_ID=io.github.diptych
TAGS="sqlite_fts5 migrated_fynedo"
OUT_DIR="${OUT_DIR:-dist}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
DEB_MAINTAINER="${DEB_MAINTAINER:-Diptych developers <diptych@users.noreply.invalid>}"
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || { echo "build_deb: only amd64 is supported (the bundled ONNX Runtime is linux-x64), not $arch" >&2; exit 1; }

# base is the release version in FyneApp.toml; the metainfo and CHANGELOG must agree.
base=$(sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' FyneApp.toml | head -1)
[ -n "$base" ] || { echo "build_deb: FyneApp.toml: no [Details] Version" >&2; exit 1; }
grep -q "<release version=\"$base\"" "packaging/linux/$APP_ID.metainfo.xml" ||
  { echo "build_deb: packaging/linux/$APP_ID.metainfo.xml has no <release version=\"$base\"> (FyneApp.toml says $base)" >&2; exit 1; }
grep -q "^## \[$base\]" CHANGELOG.md ||
  { echo "build_deb: CHANGELOG.md has no '## [$base]' section (FyneApp.toml says $base)" >&2; exit 1; }

# deb_version maps git describe output onto a Debian version:
#   v1.2.3 -> 1.2.3;  v1.2.3-4-gabc1234 -> 1.2.3+git4.gabc1234;  v1.3.0-rc1 -> 1.3.0~rc1;  abc1234 (no tag) -> <base>~gabc1234
#   (~ sorts before the release);  a -dirty suffix becomes +dirty / .dirty.
deb_version() {
  local v=$1 dirty=""
  case "$v" in *-dirty) dirty=dirty; v=${v%-dirty} ;; esac
  if [[ $v =~ ^[0-9a-f]{7,40}$ ]]; then
    v="$base~g$v${dirty:+.$dirty}"
  elif [[ $v =~ ^v?([0-9][0-9A-Za-z.-]*)-([0-9]+)-(g[0-9a-f]+)$ ]]; then
    local tag=${BASH_REMATCH[1]//-/\~}
    v="$tag+git${BASH_REMATCH[2]}.${BASH_REMATCH[3]}${dirty:+.$dirty}"
  elif [[ $v =~ ^v?([0-9][0-9A-Za-z.-]*)$ ]]; then
    local tag=${BASH_REMATCH[1]//-/\~}
    v="$tag${dirty:++$dirty}"
  else
    v="$base~${v//[^0-9A-Za-z.]/.}"
  fi
  echo "$v"
}
DEB_VERSION="${DEB_VERSION:-$(deb_version "$VERSION")}"
[[ $DEB_VERSION =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || { echo "build_deb: bad Debian version '$DEB_VERSION'" >&2; exit 1; }

stage=build/deb
root="$stage/root"
rm -rf "$stage"
mkdir -p "$root/DEBIAN" "$root/usr/lib/diptych/lib" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/metainfo" "$root/usr/share/doc/diptych" "$root/usr/share/icons/hicolor/scalable/apps"

# The binary: same tags and -X as `make build` (so the build cache is shared), stripped.
if [ -n "${BIN:-}" ]; then
  install -m 0755 "$BIN" "$root/usr/lib/diptych/diptych"
else
  echo "build_deb: go build (version $VERSION)" >&2
  go build -tags "$TAGS" -ldflags "-s -w -X main.version=$VERSION" -o "$root/usr/lib/diptych/diptych" .
fi
ln -s ../lib/diptych/diptych "$root/usr/bin/diptych"

# The CPU ONNX Runtime, with its SONAME link and the name Diptych looks for first.
tools/fetch_ort.sh .runtime
ort_real=$(readlink -f .runtime/libonnxruntime.so)
ort_name=$(basename "$ort_real")
install -m 0644 "$ort_real" "$root/usr/lib/diptych/lib/$ort_name"
ln -s "$ort_name" "$root/usr/lib/diptych/lib/libonnxruntime.so.1"
ln -s "$ort_name" "$root/usr/lib/diptych/lib/libonnxruntime.so"

install -m 0644 "packaging/linux/$APP_ID.desktop" "$root/usr/share/applications/"
install -m 0644 "packaging/linux/$APP_ID.metainfo.xml" "$root/usr/share/metainfo/"
install -m 0644 CHANGELOG.md "$root/usr/share/doc/diptych/CHANGELOG.md"
install -m 0644 assets/icon.svg "$root/usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"
for png in assets/icons/icon-*.png; do
  n=${png##*/icon-}; n=${n%.png}
  mkdir -p "$root/usr/share/icons/hicolor/${n}x${n}/apps"
  install -m 0644 "$png" "$root/usr/share/icons/hicolor/${n}x${n}/apps/$APP_ID.png"
done

desktop-file-validate "$root/usr/share/applications/$APP_ID.desktop"
appstreamcli validate --no-net --explain "$root/usr/share/metainfo/$APP_ID.metainfo.xml" >&2

# Depends: what the ELF files link (dpkg-shlibdeps reads the shlibs/symbols
# files of the installed -dev packages), plus the libraries GLFW dlopens for
# X11 (cursor, RandR, Xinerama, XInput, XF86VidMode, XRender) which ldd cannot see.
dlopened="libxcursor1, libxrandr2, libxinerama1, libxi6, libxxf86vm1, libxrender1"
mkdir -p "$stage/shlibs/debian"
printf 'Source: diptych\n\nPackage: diptych\nArchitecture: any\n' >"$stage/shlibs/debian/control"
shlibdeps=$(cd "$stage/shlibs" && dpkg-shlibdeps -O -e"../root/usr/lib/diptych/diptych" \
  -e"../root/usr/lib/diptych/lib/$ort_name" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibdeps" ] || { echo "build_deb: dpkg-shlibdeps found no dependencies (is dpkg-dev installed?)" >&2; exit 1; }
depends="$shlibdeps, $dlopened"

size_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: diptych
Version: $DEB_VERSION
Architecture: $arch
Maintainer: $DEB_MAINTAINER
Installed-Size: $size_kb
Depends: $depends
Section: graphics
Priority: optional
Description: Stable Diffusion XL and Janus-Pro offline, side by side
 Diptych is an offline desktop studio that runs the ONNX exports of Stable
 Diffusion XL and DeepSeek Janus-Pro on this machine and shows them side by
 side. It bundles the CPU build of ONNX Runtime; "diptych models runtime --gpu"
 installs the GPU build, which needs the NVIDIA driver, CUDA 12/13 and cuDNN 9.
 .
 No model weights are included: "diptych models pull" downloads them.
EOF

mkdir -p "$OUT_DIR"
deb="$OUT_DIR/diptych_${DEB_VERSION}_${arch}.deb"
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb" >&2
echo "build_deb: wrote $deb (Depends: $depends)" >&2
echo "$deb"
