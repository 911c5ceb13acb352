#!/usr/bin/env bash
# Export the Stable Diffusion XL refiner 1.0 to ONNX with Optimum.
#
# stabilityai/stable-diffusion-xl-refiner-1.0 has no ONNX files on the Hub, so
# Diptych makes them here. The result is the Optimum diffusers layout that
# engine/models.Detect recognises as an SDXL refiner:
#   OUT/text_encoder_2/model.onnx (+ model.onnx_data)   OUT/tokenizer_2/
#   OUT/unet/model.onnx + model.onnx_data               OUT/scheduler/
#   OUT/vae_decoder/model.onnx   OUT/vae_encoder/model.onnx   OUT/model_index.json
#
# Usage: tools/export_sdxl_refiner.sh OUT_DIR [--model ID_OR_DIR] [--revision REV] [--dtype fp32|fp16]
#
#   --model     Hub id or local diffusers folder
#               (default $DIPTYCH_CHECKPOINT or stabilityai/stable-diffusion-xl-refiner-1.0)
#   --revision  Hub revision to export (default $DIPTYCH_CHECKPOINT_REVISION or main). optimum-cli
#               has no --revision, so a pinned revision is first fetched with huggingface_hub.
#   --dtype     fp32 (default; runs on CPU) or fp16 (needs a CUDA GPU for the export).
#
# Needs Python with optimum-onnx, diffusers, transformers, torch and onnx: $PYTHON, else
# tools/.venv/bin/python, else python3. HF_TOKEN and HF_ENDPOINT are honoured by huggingface_hub.
# Disk: about 6 GB of PyTorch weights in the Hugging Face cache plus 12 GB of ONNX output (fp32).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

out=""
model="${DIPTYCH_CHECKPOINT:-stabilityai/stable-diffusion-xl-refiner-1.0}"
revision="${DIPTYCH_CHECKPOINT_REVISION:-main}"
dtype="fp32"
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--model) model="$2"; shift 2 ;;
	--revision) revision="$2"; shift 2 ;;
	--dtype) dtype="$2"; shift 2 ;;
	-*) echo "export_sdxl_refiner.sh: unknown flag $1" >&2; usage >&2; exit 2 ;;
	*)
		if [ -n "$out" ]; then echo "export_sdxl_refiner.sh: more than one OUT_DIR" >&2; exit 2; fi
		out="$1"; shift ;;
	esac
done
if [ -z "$out" ]; then usage >&2; exit 2; fi
case "$dtype" in fp32 | fp16) ;; *) echo "export_sdxl_refiner.sh: --dtype must be fp32 or fp16, not $dtype" >&2; exit 2 ;; esac

python="${PYTHON:-}"
if [ -z "$python" ]; then
	if [ -x "$here/.venv/bin/python" ]; then python="$here/.venv/bin/python"; else python="$(command -v python3 || true)"; fi
fi
if [ -z "$python" ]; then echo "export_sdxl_refiner.sh: no Python found (set PYTHON)" >&2; exit 1; fi
if ! "$python" -c 'import optimum.exporters.onnx, diffusers, torch' 2>/dev/null; then
	echo "export_sdxl_refiner.sh: $python lacks optimum-onnx, diffusers or torch" >&2
	echo "  install them with: $python -m pip install 'optimum-onnx[onnxruntime]' diffusers transformers torch" >&2
	exit 1
fi

src="$model"
if [ ! -d "$model" ] && [ "$revision" != "main" ]; then
	echo "fetching $model@$revision (PyTorch weights, fp16 variant skipped) ..." >&2
	src="$("$python" - "$model" "$revision" <<'EOF'
import sys
from huggingface_hub import snapshot_download
print(snapshot_download(sys.argv[1], revision=sys.argv[2],
                        allow_patterns=["*.json", "*.txt", "*/diffusion_pytorch_model.safetensors", "*/model.safetensors"]))
EOF
)"
fi

device="cpu"
if [ "$dtype" = "fp16" ]; then device="cuda"; fi
mkdir -p "$out"
echo "exporting $src ($dtype) to $out ..." >&2
"$python" -m optimum.commands.optimum_cli export onnx --model "$src" --task image-to-image \
	--library-name diffusers --dtype "$dtype" --device "$device" "$out"

for f in unet/model.onnx text_encoder_2/model.onnx vae_decoder/model.onnx tokenizer_2/vocab.json scheduler/scheduler_config.json; do
	if [ ! -f "$out/$f" ]; then
		echo "export_sdxl_refiner.sh: the export has no $f" >&2
		exit 1
	fi
done
echo "done: $out" >&2
