#!/bin/sh
# Regenerate testdata/sdxl/ (tiny SDXL ONNX exports + diffusers references).
# Needs the venv from tools/requirements.txt at tools/.venv (override with PYTHON=...).
set -eu
cd "$(dirname "$0")/../.."
PY="${PYTHON:-tools/.venv/bin/python}"
"$PY" tools/sdxl/make_tiny_sdxl.py
"$PY" tools/sdxl/make_sdxl_refs.py
