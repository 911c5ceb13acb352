#!/usr/bin/env python3
"""SDXL UNet steps for the full-size bench: the PyTorch reference (diffusers' UNet2DConditionModel,
rebuilt bit-identically from build_sdxl.py's seeds: no PyTorch copy of the 10 GB weights is kept)
and the onnxruntime-python peer over the exported unet/model.onnx. Same inputs (CFG batch 2),
same thread count.

  sdxl_unet.py torch --kind base|refiner --size 1024 --steps 2 --threads N --json OUT [--save REF.npz]
  sdxl_unet.py ort MODEL_DIR --size 1024 --steps 2 --threads N --json OUT [--parity REF.npz]

REF.npz holds the inputs and PyTorch's output of the first step, for the parity check.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def inputs(kind, size, cross, te_width):
    rng = np.random.default_rng(7)
    lat = size // 8
    ntime = 6 if kind == "base" else 5
    tid = [size, size, 0, 0, size, size] if kind == "base" else [size, size, 0, 0, 6.0]
    return {
        "sample": rng.standard_normal((2, 4, lat, lat), dtype=np.float32),
        "timestep": np.array(999.0, np.float32),
        "encoder_hidden_states": rng.standard_normal((2, 77, cross), dtype=np.float32),
        "text_embeds": rng.standard_normal((2, te_width), dtype=np.float32),
        "time_ids": np.array([tid] * 2, np.float32).reshape(2, ntime),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runner", choices=["torch", "ort"])
    ap.add_argument("model_dir", nargs="?")
    ap.add_argument("--kind", default="base", choices=["base", "refiner"])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json")
    ap.add_argument("--save")
    ap.add_argument("--parity")
    a = ap.parse_args()
    import build_sdxl

    cfg = build_sdxl.unet_config(a.kind, False)
    ntime = 6 if a.kind == "base" else 5
    te_width = cfg["projection_class_embeddings_input_dim"] - ntime * cfg["addition_time_embed_dim"]
    x = inputs(a.kind, a.size, cfg["cross_attention_dim"], te_width)
    t0 = time.perf_counter()
    steps, first_out = [], None
    if a.runner == "torch":
        import torch
        from diffusers import UNet2DConditionModel

        torch.set_num_threads(a.threads)
        torch.manual_seed(build_sdxl.SEED)
        unet = UNet2DConditionModel(**cfg).eval()
        build_sdxl.randomize(unet, build_sdxl.SEED + (4 if a.kind == "base" else 5))
        load = time.perf_counter() - t0
        tx = {k: torch.from_numpy(v) for k, v in x.items()}
        with torch.no_grad():
            for i in range(a.steps):
                s = time.perf_counter()
                out = unet(tx["sample"], tx["timestep"], tx["encoder_hidden_states"],
                           added_cond_kwargs={"text_embeds": tx["text_embeds"], "time_ids": tx["time_ids"]},
                           return_dict=False)[0].numpy()
                steps.append(time.perf_counter() - s)
                if first_out is None:
                    first_out = out
        if a.save:
            np.savez(a.save, out=first_out, **x)
    else:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        sess = ort.InferenceSession(os.path.join(a.model_dir, "unet", "model.onnx"), so,
                                    providers=["CPUExecutionProvider"])
        load = time.perf_counter() - t0
        for i in range(a.steps):
            s = time.perf_counter()
            out = sess.run(["out_sample"], x)[0]
            steps.append(time.perf_counter() - s)
            if first_out is None:
                first_out = out
    res = {"runner": a.runner, "kind": a.kind, "size": a.size, "threads": a.threads, "load_s": load,
           "per_step_s": statistics.median(steps), "step_s": steps, "total_s": time.perf_counter() - t0}
    if a.parity:
        ref = np.load(a.parity)
        rel = float(np.max(np.abs(first_out - ref["out"])) / np.max(np.abs(ref["out"])))
        res["parity"] = {"max_rel_diff": rel, "ok": rel <= 1e-3}
    print(json.dumps(res))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f)


if __name__ == "__main__":
    main()
