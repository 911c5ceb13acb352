#!/usr/bin/env bash
# Regenerates every committed fixture and reference output in testdata/ and
# engine/*/testdata/ with the Python (and Node) reference implementations.
# Needs PyPI/npm once to set up; CI never runs this.
#   python3.11 -m venv tools/.venv && tools/.venv/bin/pip install -r tools/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-tools/.venv/bin/python}"
[ -x "$PY" ] || { echo "make fixtures: create the venv first (see tools/requirements.txt)" >&2; exit 1; }
step() { echo "== $*" >&2; "$@"; }
step "$PY" tools/runtime/make_runtime_fixtures.py     # testdata/runtime: tiny graphs for engine/ort
step "$PY" tools/ref_torch_randn.py                   # engine/rng/testdata: torch.randn values
step "$PY" tools/ref_clip_tokens.py                   # engine/tokenizer/testdata/clip: CLIPTokenizer ids
step "$PY" tools/ref_schedulers.py                    # engine/scheduler/testdata: diffusers schedules and loops
step tools/sdxl/make_all.sh                           # testdata/sdxl: tiny SDXL exports + diffusers references
step "$PY" tools/janus/make_tiny_janus.py             # testdata/janus/tiny: tiny Janus-Pro export
step "$PY" tools/janus/make_janus_refs.py             # testdata/janus/refs: transformers references
(cd tools/hf_golden && npm ci --ignore-scripts --silent && node golden.mjs)  # DeepSeek-V3 tokenizer goldens
