#!/usr/bin/env python3
"""Time one Janus language-model token step (CFG batch 2, a KV cache of P positions) for a graph
file, optionally with the MatMulNBits accuracy_level attribute rewritten (a copy is made beside
the cache, the model folder is not touched), to see where the per-token time goes.

  lm_step.py LM.onnx [--accuracy-level N] [--past 300] [--threads 2] [--steps 10]
"""
import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import onnxruntime as ort

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--accuracy-level", type=int)
ap.add_argument("--past", type=int, default=300)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--steps", type=int, default=10)
a = ap.parse_args()
path = a.model
if a.accuracy_level is not None:
    import onnx
    from onnx import helper

    m = onnx.load(path)
    n = 0
    for node in m.graph.node:
        if node.op_type == "MatMulNBits":
            for at in list(node.attribute):
                if at.name == "accuracy_level":
                    node.attribute.remove(at)
            node.attribute.append(helper.make_attribute("accuracy_level", a.accuracy_level))
            n += 1
    d = os.path.join(os.path.expanduser("~/.cache/diptych-fullsize"), "scratch")
    path = os.path.join(d, f"lm_acc{a.accuracy_level}.onnx")
    onnx.save(m, path)
    print(f"rewrote {n} MatMulNBits nodes")
so = ort.SessionOptions()
so.intra_op_num_threads = a.threads
so.inter_op_num_threads = 1
so.log_severity_level = 3
so.add_session_config_entry("session.intra_op.allow_spinning", "0")
t = time.perf_counter()
s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
load = time.perf_counter() - t
ins = {i.name: i for i in s.get_inputs()}
kv = ins["past_key_values.0.key"]
ft = np.float16 if "float16" in kv.type else np.float32
et = np.float16 if "float16" in ins["inputs_embeds"].type else np.float32
L = sum(1 for k in ins if k.endswith(".key"))
H, hd, D = kv.shape[1], kv.shape[3], ins["inputs_embeds"].shape[2]
feeds = {"inputs_embeds": np.random.randn(2, 1, D).astype(et), "attention_mask": np.ones((2, a.past + 1), np.int64)}
if "position_ids" in ins:
    feeds["position_ids"] = np.full((2, 1), a.past, np.int64)
for i in range(L):
    for k in ("key", "value"):
        feeds[f"past_key_values.{i}.{k}"] = np.random.randn(2, H, a.past, hd).astype(ft)
out_names = ["hidden_states"]
times = []
for _ in range(a.steps):
    t = time.perf_counter()
    s.run(out_names, feeds)
    times.append(time.perf_counter() - t)
print(f"{os.path.basename(a.model)} acc={a.accuracy_level} load {load:.2f}s step median {statistics.median(times)*1000:.1f} ms (past {a.past})")
