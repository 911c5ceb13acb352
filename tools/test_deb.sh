#!/usr/bin/env bash
# Installs a Diptych .deb into a clean Debian root made with debootstrap and
# checks it there: apt resolves its Depends from the Debian mirror, every ELF
# file in the package finds its libraries, the X11 libraries GLFW dlopens are
# present, `diptych --version` runs, and `diptych doctor --json` exits 0 with
# JSON whose runtime is the ONNX Runtime in /usr/lib/diptych/lib (no GPU and no
# models needed); then removes the package and checks nothing is left behind.
#
#   tools/test_deb.sh [dist/diptych_X_amd64.deb]   (default: the newest in dist/)
#
# Environment: SUITE (bookworm), MIRROR (http://deb.debian.org/debian),
# OUT (where doctor.json, doctor.txt and the logs go; default build/deb-test),
# EXPECT_VERSION (fail unless `diptych --version` prints it),
# KEEP_ROOT=1 (leave the root for inspection). Needs root, debootstrap and the
# network to the Debian mirror. Takes a few minutes (debootstrap dominates).
set -euo pipefail
arg_deb="${1:+$(realpath "$1")}"
cd "$(dirname "$0")/.."

SUITE="${SUITE:-bookworm}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
OUT="${OUT:-build/deb-test}"
deb="${arg_deb:-$(ls -t dist/diptych_*_amd64.deb 2>/dev/null | head -1)}"
[ -n "$deb" ] && [ -f "$deb" ] || { echo "test_deb: no .deb given and none in dist/ (run tools/build_deb.sh)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "test_deb: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
  echo "test_deb: installing debootstrap" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

mkdir -p "$OUT" build/debootstrap-cache
OUT=$(cd "$OUT" && pwd)
cache=$(cd build/debootstrap-cache && pwd)
root=$(mktemp -d /var/tmp/diptych-deb-root.XXXXXX)
cleanup() {
  for m in proc sys dev/pts; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
  if [ "${KEEP_ROOT:-}" = 1 ]; then
    echo "test_deb: root left at $root" >&2
  else
    rm -rf "$root"
  fi
}
trap cleanup EXIT
fail() { echo "test_deb: FAIL: $*" >&2; exit 1; }
step() { echo "test_deb: [$(( SECONDS ))s] $*" >&2; }
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

step "debootstrap --variant=minbase $SUITE into $root (log: $OUT/debootstrap.log)"
if ! debootstrap --variant=minbase --cache-dir="$cache" "$SUITE" "$root" "$MIRROR" >"$OUT/debootstrap.log" 2>&1; then
  tail -20 "$OUT/debootstrap.log" >&2
  fail "debootstrap $SUITE from $MIRROR failed"
fi
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"

step "apt-get install ./$(basename "$deb") (log: $OUT/install.log)"
cp "$deb" "$root/tmp/diptych.deb"
if ! in_root sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/diptych.deb' \
  >"$OUT/install.log" 2>&1; then
  tail -20 "$OUT/install.log" >&2
  fail "installing the package in a clean $SUITE failed"
fi
in_root dpkg-query -W -f='${Status} ${Version}\n' diptych | tee "$OUT/status.txt" | grep -q '^install ok installed' ||
  fail "dpkg says diptych is not installed: $(cat "$OUT/status.txt")"

step "ldd every ELF file of the package"
: >"$OUT/ldd.txt"
for f in /usr/lib/diptych/diptych /usr/lib/diptych/lib/libonnxruntime.so; do
  in_root ldd "$f" >>"$OUT/ldd.txt" 2>&1 || fail "ldd $f failed: $(cat "$OUT/ldd.txt")"
done
if grep -q 'not found' "$OUT/ldd.txt"; then fail "missing libraries: $(grep 'not found' "$OUT/ldd.txt")"; fi
for lib in libXcursor.so.1 libXrandr.so.2 libXinerama.so.1 libXi.so.6 libXxf86vm.so.1 libXrender.so.1; do
  in_root sh -c "ldconfig -p | grep -q '$lib '" || fail "$lib (dlopened by GLFW) is not installed: Depends is incomplete"
done

step "diptych --version"
in_root diptych --version >"$OUT/version.txt" 2>"$OUT/version.stderr" || fail "diptych --version exited $?: $(cat "$OUT/version.stderr")"
cat "$OUT/version.txt" >&2
if [ -n "${EXPECT_VERSION:-}" ] && ! grep -qx "diptych $EXPECT_VERSION" "$OUT/version.txt"; then
  fail "diptych --version printed '$(cat "$OUT/version.txt")', want 'diptych $EXPECT_VERSION'"
fi

step "diptych doctor --json"
rc=0
in_root diptych doctor --json >"$OUT/doctor.json" 2>"$OUT/doctor.stderr" || rc=$?
[ "$rc" -eq 0 ] || fail "diptych doctor --json exited $rc: $(cat "$OUT/doctor.stderr")"
in_root diptych doctor >"$OUT/doctor.txt" 2>>"$OUT/doctor.stderr" || fail "diptych doctor exited $?"
if command -v python3 >/dev/null; then
  python3 - "$OUT/doctor.json" <<'EOF' || fail "doctor.json: see above"
import json, sys
r = json.load(open(sys.argv[1]))
p = r["runtime"].get("path", "")
assert p.startswith("/usr/lib/diptych/lib/libonnxruntime.so"), f"runtime.path = {p!r}, want the bundled /usr/lib/diptych/lib/libonnxruntime.so"
assert r["runtime"].get("version"), f"runtime.version is empty: {r['runtime']}"
print(f"runtime {r['runtime']['version']} at {p}", file=sys.stderr)
EOF
else
  grep -q '"path": "/usr/lib/diptych/lib/libonnxruntime.so' "$OUT/doctor.json" || fail "doctor.json does not name /usr/lib/diptych/lib/libonnxruntime.so as the runtime"
fi

step "apt-get purge diptych"
in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q diptych' >>"$OUT/install.log" 2>&1 || fail "purge failed"
for p in /usr/lib/diptych /usr/bin/diptych /usr/share/applications/io.github.diptych.desktop; do
  [ ! -e "$root$p" ] && [ ! -L "$root$p" ] || fail "$p is left after purge"
done
step "PASS ($(basename "$deb") in a clean $SUITE; results in $OUT)"
