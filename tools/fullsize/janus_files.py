#!/usr/bin/env python3
"""Print the files (graphs + external data) text-to-image loads for a Janus combination."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from janus_ort import COMBOS, T2I  # noqa: E402

model_dir, combo = sys.argv[1], sys.argv[2]
out = []
for g in T2I:
    p = os.path.join(model_dir, "onnx", f"{g}{COMBOS[combo][g]}.onnx")
    if not os.path.exists(p):
        p = os.path.join(model_dir, "onnx", f"{g}.onnx")
    out.append(p)
    if os.path.exists(p + "_data"):
        out.append(p + "_data")
print(" ".join(out))
if len(sys.argv) > 4 and sys.argv[3] == "--json":
    # Bytes of weights one image-token step reads: the language model, gen_head, gen_img_embeds.
    import json

    n = 0
    for g in ("language_model", "gen_head", "gen_img_embeds"):
        p = os.path.join(model_dir, "onnx", f"{g}{COMBOS[combo][g]}.onnx")
        if not os.path.exists(p):
            p = os.path.join(model_dir, "onnx", f"{g}.onnx")
        n += os.path.getsize(p) + (os.path.getsize(p + "_data") if os.path.exists(p + "_data") else 0)
    # What Diptych loads for text-to-image: the same minus prepare_inputs_embeds, whose token
    # table it reads from disk.
    loaded = sum(os.path.getsize(p) for p in out if "prepare_inputs_embeds" not in os.path.basename(p))
    with open(sys.argv[4], "w") as f:
        json.dump({"combo": combo, "per_token_bytes": n, "diptych_loaded_bytes": loaded}, f)
