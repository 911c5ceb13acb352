#!/usr/bin/env bash
# Full-size benchmark: Diptych's CLI, a plain onnxruntime-python loop over the same graphs
# (the peer), the PyTorch reference on the CPU, and the memory-bandwidth bound, side by side:
# same prompt, seed and thread count, one after another in this one run. Writes the raw
# results to $CACHE/bench/<time>/ and docs/benchmarks.md, docs/benchmarks.csv,
# docs/benchmarks.png from them (tools/fullsize/report.py).
#
#   tools/fullsize/bench.sh            (make bench-full; builds what is missing first: make fullsize)
#
# Environment: DIPTYCH_FULLSIZE_CACHE (default ~/.cache/diptych-fullsize), THREADS (default: all
# cores), PROMPT, SEED, COMBOS (default "fp32 fp16 q4f16"), SKIP_TORCH=1, SKIP_PARITY=1,
# SKIP_SDXL=1, NICE (default 19: this machine is shared; set 0 on a quiet one).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CACHE=${DIPTYCH_FULLSIZE_CACHE:-$HOME/.cache/diptych-fullsize}
THREADS=${THREADS:-$(nproc)}
PROMPT=${PROMPT:-a photograph of an astronaut riding a horse}
SEED=${SEED:-42}
COMBOS=${COMBOS:-fp32 fp16 q4f16}
NICE=${NICE:-19}
PY=${PY:-tools/.venv/bin/python}
# The peer runs the same ONNX Runtime version as Diptych's library (.runtime) where it is
# installed beside the cache (make fullsize-deps): pip install --target $CACHE/ort<version>.
ORT_VERSION=$(readlink -f .runtime/libonnxruntime.so | sed -n 's/.*libonnxruntime\.so\.\([0-9.]*\)$/\1/p')
PEER_PATH=$CACHE/ort${ORT_VERSION//./}
JANUS=$CACHE/janus-pro-1b/onnx
CKPT=$CACHE/janus-pro-1b/ckpt
OUT=${BENCH_OUT:-$CACHE/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
# shellcheck source=tools/fullsize/timed.sh
. "$ROOT/tools/fullsize/timed.sh"

go build -tags 'sqlite_fts5 migrated_fynedo' -o bin/diptych .
{
	echo "date: $(date -Is)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "cores: $(nproc)"
	echo "memory_kb: $(grep MemTotal /proc/meminfo | awk '{print $2}')"
	echo "kernel: $(uname -r)"
	echo "threads: $THREADS"
	echo "prompt: $PROMPT"
	echo "seed: $SEED"
	echo "nice: $NICE"
	echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "onnxruntime_go_lib: $(readlink -f .runtime/libonnxruntime.so)"
	echo "onnxruntime_python: $(PYTHONPATH="$PEER_PATH" $PY -c 'import onnxruntime; print(onnxruntime.__version__)')"
	echo "torch: $($PY -c 'import torch; print(torch.__version__)')"
	echo "commit: $(git rev-parse --short HEAD)"
} >"$OUT/machine.txt"
run $PY tools/fullsize/membw.py --threads "$THREADS" --json "$OUT/membw.json" | tee -a "$OUT/log.txt"

if [ -d "$JANUS/onnx" ]; then
	for combo in $COMBOS; do
		# Files of this combination read once from the page cache (warm), timed: the load target.
		files=$($PY tools/fullsize/janus_files.py "$JANUS" "$combo" --json "$OUT/sizes-$combo.json")
		cat $files >/dev/null
		s=$(date +%s.%N)
		cat $files >/dev/null
		echo "{\"combo\": \"$combo\", \"read_s\": $(printf '%.3f' "$(echo "$(date +%s.%N) - $s" | bc)"), \"bytes\": $(du -cb $files | tail -1 | cut -f1)}" >"$OUT/files-$combo.json"
		timed "diptych-janus-$combo" bin/diptych generate --model janus --model-dir "$JANUS" --device cpu \
			--variant "$combo" --threads "$THREADS" --prompt "$PROMPT" --seed "$SEED" --no-history --quiet \
			--out "$OUT/diptych-janus-$combo.png" --report "$OUT/diptych-janus-$combo.json"
		timed "ort-janus-$combo" env PYTHONPATH="$PEER_PATH" $PY tools/fullsize/janus_ort.py "$JANUS" --combo "$combo" --threads "$THREADS" \
			--prompt "$PROMPT" --seed "$SEED" --json "$OUT/ort-janus-$combo.json"
	done
	if [ "${SKIP_TORCH:-0}" != 1 ]; then
		timed torch-janus $PY tools/fullsize/janus_torch.py "$CKPT" --threads "$THREADS" --prompt "$PROMPT" \
			--seed "$SEED" --json "$OUT/torch-janus.json"
	fi
	if [ "${SKIP_PARITY:-0}" != 1 ]; then
		# Seeded sampling against PyTorch needs the float32 graphs throughout (every combination
		# Diptych offers runs a 4-bit language model): a folder of links to just those files.
		F32=$CACHE/scratch/janus-float32
		rm -rf "$F32" && mkdir -p "$F32/onnx"
		ln -s "$JANUS"/*.json "$F32/"
		for g in prepare_inputs_embeds language_model lm_head gen_head gen_img_embeds image_decode; do
			ln -s "$JANUS/onnx/$g.onnx" "$F32/onnx/"
			[ ! -e "$JANUS/onnx/$g.onnx_data" ] || ln -s "$JANUS/onnx/$g.onnx_data" "$F32/onnx/"
		done
		$PY tools/fullsize/janus_files.py "$JANUS" float32 --json "$OUT/sizes-float32.json" >/dev/null
		timed diptych-janus-float32 bin/diptych generate --model janus --model-dir "$F32" --device cpu \
			--threads "$THREADS" --prompt "$PROMPT" --seed "$SEED" --no-history --quiet \
			--out "$OUT/diptych-janus-float32.png" --report "$OUT/diptych-janus-float32.json"
		timed parity-torch $PY tools/fullsize/janus_torch.py "$CKPT" --threads "$THREADS" --parity "$OUT/parity-ref.npz"
		timed parity-ort env PYTHONPATH="$PEER_PATH" $PY tools/fullsize/janus_ort.py "$JANUS" --combo float32 --threads "$THREADS" \
			--teacher "$OUT/parity-ref.npz" --json "$OUT/parity-janus.json"
	fi
else
	echo "no full-size Janus-Pro-1B in $JANUS: run make fullsize" | tee -a "$OUT/log.txt"
fi

if [ "${SKIP_SDXL:-0}" != 1 ] && [ -x tools/fullsize/bench_sdxl.sh ]; then
	OUT=$OUT PY=$PY THREADS=$THREADS PROMPT=$PROMPT SEED=$SEED NICE=$NICE CACHE=$CACHE PEER_PATH=$PEER_PATH tools/fullsize/bench_sdxl.sh || true
fi
echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
$PY tools/fullsize/report.py "$OUT" --docs docs
echo "raw results: $OUT"
