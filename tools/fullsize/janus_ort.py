#!/usr/bin/env python3
"""The peer: a plain onnxruntime-python text-to-image loop over a Janus-Pro ONNX folder.

Same graphs, same dtype combination, same thread count, same prompt format, CFG layout
(rows [cond, uncond]) and sampling as Diptych (torch.multinomial with torch.manual_seed(seed),
the stream Diptych's rng.NewTorch reproduces). The KV cache is kept as OrtValues and passed
back through IOBinding as Diptych does, so the two do the same work per token.

  janus_ort.py MODEL_DIR --combo fp32|fp16|q4f16 --prompt P --seed S --threads N --json OUT
               [--tokens N] [--teacher FILE.npz]   (teacher-forced logits for the parity check)

Prints and writes: load, prefill, first token, per-token median, total (seconds), tokens.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time

import numpy as np

COMBOS = {  # engine/models JanusCombos (image_decode always fp32)
    "fp32": {"prepare_inputs_embeds": "_q4", "language_model": "_q4", "lm_head": "", "gen_head": "",
             "gen_img_embeds": "", "image_decode": ""},
    "fp16": {"prepare_inputs_embeds": "_q4", "language_model": "_q4f16", "lm_head": "_fp16", "gen_head": "_fp16",
             "gen_img_embeds": "_fp16", "image_decode": ""},
    "q4f16": {"prepare_inputs_embeds": "_q4f16", "language_model": "_q4f16", "lm_head": "_q4f16",
              "gen_head": "_q4f16", "gen_img_embeds": "_q4f16", "image_decode": ""},
    "float32": {g: "" for g in ["prepare_inputs_embeds", "language_model", "lm_head", "gen_head",
                                "gen_img_embeds", "image_decode"]},  # every graph the float32 export
}
T2I = ["prepare_inputs_embeds", "language_model", "gen_head", "gen_img_embeds", "image_decode"]
NP = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def t2i_text(prompt):
    return "<|User|>: " + prompt.strip() + "\n\n<|Assistant|>:<begin_of_image>"


def cfg_ids(tok, prompt):
    """The CFG batch's token ids [2, T]: the prompt, and the same length of pad between its first and last token."""
    cond = tok.encode(t2i_text(prompt)).ids
    pad = tok.token_to_id("<｜▁pad▁｜>")
    return np.array([cond, [cond[0]] + [pad] * (len(cond) - 2) + [cond[-1]]], np.int64)


def accuracy_copy(path, level):
    """A copy of a q4 graph with MatMulNBits accuracy_level=level (what Diptych loads on the CPU),
    made once beside the cache so that both runners load the same graph from a file."""
    if level < 0 or "_q4" not in os.path.basename(path):
        return path
    import onnx
    from onnx import helper

    d = os.path.join(os.path.expanduser(os.environ.get("DIPTYCH_FULLSIZE_CACHE", "~/.cache/diptych-fullsize")),
                     "acc", f"{hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:12]}-acc{level}")
    dst = os.path.join(d, os.path.basename(path))
    if os.path.exists(dst):
        return dst
    os.makedirs(d, exist_ok=True)
    m = onnx.load(path, load_external_data=False)
    for node in m.graph.node:
        if node.op_type == "MatMulNBits":
            for at in list(node.attribute):
                if at.name == "accuracy_level":
                    node.attribute.remove(at)
            node.attribute.append(helper.make_attribute("accuracy_level", level))
    if os.path.exists(path + "_data"):
        os.symlink(path + "_data", dst + "_data")
    onnx.save(m, dst + ".tmp")
    os.rename(dst + ".tmp", dst)
    return dst


class Janus:
    def __init__(self, model_dir, combo, threads, graphs=T2I, accuracy=4):
        import onnxruntime as ort

        self.ort = ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.s, self.files = {}, {}
        for g in graphs:
            suffix = COMBOS[combo][g]
            p = os.path.join(model_dir, "onnx", f"{g}{suffix}.onnx")
            if not os.path.exists(p):
                p = os.path.join(model_dir, "onnx", f"{g}.onnx")
            self.files[g] = p
            self.s[g] = ort.InferenceSession(accuracy_copy(p, accuracy), so, providers=["CPUExecutionProvider"])
        lm = self.s["language_model"]
        self.lm_in = {i.name: i for i in lm.get_inputs()}
        self.layers = sum(1 for n in self.lm_in if n.startswith("past_key_values.") and n.endswith(".key"))
        kv = self.lm_in["past_key_values.0.key"]
        self.heads, self.head_dim = kv.shape[1], kv.shape[3]
        self.kv_type = NP[kv.type]
        self.G = self.s["image_decode"].get_inputs()[0].shape[1]

    def cast(self, g, name, x):
        for i in self.s[g].get_inputs():
            if i.name == name and i.type in NP:
                return x.astype(NP[i.type])
        return x

    def run(self, g, feeds):
        sess = self.s[g]
        outs = sess.run(None, {k: self.cast(g, k, v) for k, v in feeds.items()})
        return [o.astype(np.float32) if o.dtype == np.float16 else o for o in outs]

    def embed(self, ids):
        b, t = ids.shape
        S = self.s["prepare_inputs_embeds"].get_inputs()[1].shape[3]
        return self.run("prepare_inputs_embeds", {
            "input_ids": ids, "pixel_values": np.zeros((0, 0, 3, S, S), np.float32),
            "images_seq_mask": np.zeros((b, t), bool), "images_emb_mask": np.zeros((b, 0, self.G), bool)})[0]

    def lm_start(self, rows):
        self.binding = self.s["language_model"].io_binding()
        self.past = {}
        for i in range(self.layers):
            for kv in ("key", "value"):
                self.past[f"{i}.{kv}"] = self.ort.OrtValue.ortvalue_from_numpy(
                    np.zeros((rows, self.heads, 0, self.head_dim), self.kv_type))
        self.length = 0

    def lm_step(self, embeds):
        """Feed embeds [rows,S,D]; return the last hidden state [rows,D] (float32)."""
        b, S = embeds.shape[:2]
        total = self.length + S
        bd = self.binding
        bd.clear_binding_inputs()
        bd.clear_binding_outputs()
        feeds = {"inputs_embeds": self.cast("language_model", "inputs_embeds", embeds),
                 "attention_mask": np.ones((b, total), np.int64)}
        if "position_ids" in self.lm_in:
            feeds["position_ids"] = np.tile(np.arange(self.length, total, dtype=np.int64), (b, 1))
        for k, v in feeds.items():
            bd.bind_cpu_input(k, v)
        names = ["hidden_states"]  # get_outputs() follows the binding order
        bd.bind_output("hidden_states", "cpu")
        for k, v in self.past.items():
            bd.bind_ortvalue_input("past_key_values." + k, v)
            bd.bind_output("present." + k, "cpu")
            names.append("present." + k)
        self.s["language_model"].run_with_iobinding(bd)
        outs = dict(zip(names, bd.get_outputs()))
        for k in self.past:
            self.past[k] = outs["present." + k]
        self.length = total
        h = outs["hidden_states"].numpy()[:, -1, :]
        return h.astype(np.float32)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--combo", default="fp32", choices=sorted(COMBOS))
    ap.add_argument("--prompt", default="a photograph of an astronaut riding a horse")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cfg", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--tokens", type=int, default=0, help="image tokens to sample (0 = all 576)")
    ap.add_argument("--teacher", help="npz from janus_torch.py --parity: teacher-forced logits to compare")
    ap.add_argument("--accuracy-level", type=int, default=4,
                    help="MatMulNBits accuracy_level for q4 graphs, as Diptych sets on the CPU (-1: the file's)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)

    import torch
    from tokenizers import Tokenizer

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    m = Janus(args.model_dir, args.combo, args.threads, accuracy=args.accuracy_level)
    tok = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    load = time.perf_counter() - t0
    out = {"runner": "onnxruntime-python", "combo": args.combo, "threads": args.threads, "load_s": load,
           "accuracy_level": args.accuracy_level,
           "files": {g: os.path.basename(p) for g, p in m.files.items()}}

    if args.teacher:
        ref = np.load(args.teacher)
        ids = ref["input_ids"]  # [2, T]
        teach = ref["tokens"]  # image tokens fed after the prefill
        hidden = m.lm_start(2) or m.lm_step(m.embed(ids))
        got = []
        for i, t in enumerate(teach.tolist() + [None]):
            got.append(m.run("gen_head", {"hidden_states": hidden[:, None, :]})[0][:, 0, :])
            if t is None:
                break
            hidden = m.lm_step(m.run("gen_img_embeds", {"image_ids": np.array([[t], [t]], np.int64)})[0])
        got = np.stack(got)
        want = ref["logits"]
        rel = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        out["parity"] = {"positions": [int(ids.shape[1]), int(ids.shape[1] + len(teach))],
                         "max_rel_diff": rel, "ok": rel <= 1e-3}
        print(json.dumps(out["parity"]))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
        return

    ids = cfg_ids(tok, args.prompt)
    G = args.tokens or m.G
    torch.manual_seed(args.seed)
    t1 = time.perf_counter()
    m.lm_start(2)
    hidden = m.lm_step(m.embed(ids))
    prefill = time.perf_counter() - t1
    tokens, step_times = [], []
    t_prev = time.perf_counter()
    first = None
    for step in range(G):
        logits = m.run("gen_head", {"hidden_states": hidden[:, None, :]})[0][:, 0, :]
        lg = torch.from_numpy(logits.astype(np.float32))
        mixed = lg[1::2] + args.cfg * (lg[0::2] - lg[1::2])
        probs = torch.softmax(mixed, dim=-1)
        t = int(torch.multinomial(probs, num_samples=1)[0, 0])
        tokens.append(t)
        if step < G - 1:
            emb = m.run("gen_img_embeds", {"image_ids": np.array([[t], [t]], np.int64)})[0]
            hidden = m.lm_step(emb)
        now = time.perf_counter()
        step_times.append(now - t_prev)
        t_prev = now
        if first is None:
            first = now - t1
    sampling = time.perf_counter() - t1 - prefill
    t2 = time.perf_counter()
    if G == m.G:
        img = m.run("image_decode", {"generated_tokens": np.array([tokens], np.int64)})[0]
        decode = time.perf_counter() - t2
    else:
        img, decode = None, 0.0
    total = time.perf_counter() - t0
    out.update({"prompt_tokens": int(ids.shape[1]), "prefill_s": prefill, "first_token_s": first,
                "per_token_median_s": statistics.median(step_times), "tokens_s": sampling, "decode_s": decode,
                "total_s": total, "tokens": tokens, "step_s": step_times})
    if img is not None and args.json:
        from PIL import Image

        px = np.clip((img[0].transpose(1, 2, 0) + 1) / 2 * 255, 0, 255).astype(np.uint8)
        Image.fromarray(px).save(os.path.splitext(args.json)[0] + ".png")
    print(json.dumps({k: v for k, v in out.items() if k not in ("tokens", "step_s")}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    sys.exit(main())
