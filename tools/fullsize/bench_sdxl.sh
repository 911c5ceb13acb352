#!/usr/bin/env bash
# SDXL part of tools/fullsize/bench.sh (called by it with OUT, PY, THREADS, PROMPT, SEED, NICE, CACHE,
# PEER_PATH set): Diptych's CLI with --low-memory at 1024² and 768², 2 steps; the refiner for one
# step after one base step; the UNet step alone in the onnxruntime-python peer and in PyTorch
# (diffusers) with the same inputs (UNET_STEPS, default 1), and their parity at 1024².
set -uo pipefail
BASE=$CACHE/sdxl-base/onnx
REF=$CACHE/sdxl-refiner/onnx
# shellcheck source=tools/fullsize/timed.sh
. "$(dirname "$0")/timed.sh"
if [ ! -d "$BASE/unet" ]; then
	echo "no full-size SDXL base in $BASE: run make fullsize" | tee -a "$OUT/log.txt"
	exit 0
fi
du -cb "$BASE"/unet/* | tail -1 | cut -f1 >"$OUT/sdxl-unet-bytes.txt"
# Most important first (a run cut short keeps them): 1024², the parity at 1024², the refiner, then 768².
STEPS=${UNET_STEPS:-1} # UNet-only steps of the peer and of PyTorch (Diptych always runs 2)
sdxl() {
	timed "diptych-sdxl-$1" bin/diptych generate --model sdxl --model-dir "$BASE" --device cpu --low-memory \
		--threads "$THREADS" --prompt "$PROMPT" --seed "$SEED" --steps 2 --width "$1" --height "$1" \
		--no-history --quiet --out "$OUT/diptych-sdxl-$1.png" --report "$OUT/diptych-sdxl-$1.json"
}
sdxl 1024
timed torch-sdxl-1024 $PY tools/fullsize/sdxl_unet.py torch --kind base --size 1024 --steps "$STEPS" --threads "$THREADS" \
	--json "$OUT/torch-sdxl-1024.json" --save "$OUT/sdxl-parity-ref.npz"
timed ort-sdxl-1024 env PYTHONPATH="$PEER_PATH" $PY tools/fullsize/sdxl_unet.py ort "$BASE" --size 1024 --steps "$STEPS" \
	--threads "$THREADS" --json "$OUT/ort-sdxl-1024.json" --parity "$OUT/sdxl-parity-ref.npz"
rm -f "$OUT/sdxl-parity-ref.npz"
if [ -d "$REF/unet" ]; then
	timed diptych-sdxl-refiner bin/diptych generate --model sdxl --model-dir "$BASE" --refiner-dir "$REF" \
		--switch-at 0.5 --device cpu --low-memory --threads "$THREADS" --prompt "$PROMPT" --seed "$SEED" --steps 2 \
		--width 1024 --height 1024 --no-history --quiet --out "$OUT/diptych-sdxl-refiner.png" \
		--report "$OUT/diptych-sdxl-refiner.json"
fi
sdxl 768
timed ort-sdxl-768 env PYTHONPATH="$PEER_PATH" $PY tools/fullsize/sdxl_unet.py ort "$BASE" --size 768 --steps "$STEPS" \
	--threads "$THREADS" --json "$OUT/ort-sdxl-768.json"
