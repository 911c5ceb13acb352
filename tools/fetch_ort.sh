#!/usr/bin/env bash
# Fetches the CPU ONNX Runtime shared library for linux-x64 from the npm package
# onnxruntime-node (npm pack + tar: no install scripts run) into .runtime/ and
# checks its pinned SHA-256. Idempotent: does nothing when the file is present
# and matches.
set -euo pipefail
ORT_VERSION="${ORT_VERSION:-1.30.0}"
ORT_SHA256="${ORT_SHA256:-ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23}"
dest_dir="${1:-.runtime}"
dest="$dest_dir/libonnxruntime.so.$ORT_VERSION"

check() { echo "$ORT_SHA256  $1" | sha256sum -c --status; }

if [ -f "$dest" ] && check "$dest"; then
  ln -sf "libonnxruntime.so.$ORT_VERSION" "$dest_dir/libonnxruntime.so"
  exit 0
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "fetch_ort: only linux-x64 is fetched automatically; pass --ort-lib or set DIPTYCH_ORT_LIB" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "fetch_ort: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch_ort: npm pack onnxruntime-node@$ORT_VERSION" >&2
(cd "$tmp" && npm pack "onnxruntime-node@$ORT_VERSION" --silent >/dev/null)
tar -xzf "$tmp/onnxruntime-node-$ORT_VERSION.tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
if ! check "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1"; then
  echo "fetch_ort: SHA-256 mismatch for libonnxruntime.so.1 from onnxruntime-node@$ORT_VERSION (want $ORT_SHA256)" >&2
  exit 1
fi
mkdir -p "$dest_dir"
install -m 0644 "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$dest.tmp"
mv "$dest.tmp" "$dest"
ln -sf "libonnxruntime.so.$ORT_VERSION" "$dest_dir/libonnxruntime.so"
echo "fetch_ort: installed $dest" >&2
