#!/usr/bin/env bash
# Renders the app icon PNGs from assets/icon.svg into assets/icons/ (the hicolor
# sizes the .deb installs, and the one bundled into the binary). Needs
# rsvg-convert (Debian: librsvg2-bin). The PNGs are committed, so building does
# not need this; rerun it after editing the SVG.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rsvg-convert >/dev/null || { echo "build_icons: rsvg-convert is needed (apt-get install librsvg2-bin)" >&2; exit 1; }
for n in 16 22 24 32 48 64 128 256 512; do
  rsvg-convert -w "$n" -h "$n" assets/icon.svg -o "assets/icons/icon-$n.png"
done
echo "build_icons: wrote assets/icons/icon-{16..512}.png" >&2
