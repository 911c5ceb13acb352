#!/usr/bin/env python3
"""Build a full-size random-weight Janus-Pro-1B and export it to the published ONNX layout.

No real weights can be downloaded here, so this builds the real architecture at the published
dimensions with random weights, from transformers' own Janus classes, and exports it with
tools/export_janus.py to the six-graph layout of onnx-community/Janus-Pro-1B-ONNX, then makes
the quantized variants the way the published files were made (Transformers.js' quantize
script: onnxruntime's MatMulNBits quantizer, 4 bits, block 32, symmetric, float32 scales for
`_q4`; `_q4f16` is `_q4` converted to float16; `_fp16` is the float32 graph converted to
float16). As the published files do, fp16/q4f16 graphs keep float32 inputs and outputs,
except the q4f16 language model (float16 inputs_embeds, hidden_states and KV cache).

Published dimensions (deepseek-community/Janus-Pro-1B):
  language: LLaMA, hidden 2048, 24 layers, 16 heads (no GQA), MLP 5632, vocab 102400,
            RMSNorm 1e-6, RoPE theta 10000, 16384 positions
  understanding: SigLIP-L/16 at 384 (24 layers, 1024 wide) -> 576 tokens, aligner 1024->2048
  generation: VQ-16, codebook 16384 x 8, 24 x 24 tokens -> 384 x 384, gen aligner/head 2048

Everything goes into a cache folder outside the repository (default ~/.cache/diptych-fullsize,
or $DIPTYCH_FULLSIZE_CACHE, or --cache). Each step is skipped when its output is complete
(a stamp file in CACHE/stamps/ is written after it), so an interrupted build resumes.

  CACHE/janus-pro-1b/ckpt/    transformers checkpoint (safetensors, float32, ~8 GB)
  CACHE/janus-pro-1b/onnx/    the model folder Diptych loads (config.json, tokenizer.json,
                              onnx/<graph>[_q4|_q4f16|_fp16].onnx[_data])

Usage: build_janus.py [--cache DIR] [--steps ckpt,fp32,q4,fp16,q4f16] [--check]

Peak memory: ~17 GB while exporting the float32 language model (8 GB checkpoint + the traced
graph); every step runs in its own process so memory is returned between steps.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOOLS, "janus"))

SEED = 20260112
NAME = "janus-pro-1b"
GRAPHS = ["prepare_inputs_embeds", "language_model", "lm_head", "gen_head", "gen_img_embeds", "image_decode"]
# What the three Diptych combinations need beyond the float32 export (engine/models JanusCombos).
Q4 = ["prepare_inputs_embeds", "language_model"]
Q4F16 = ["prepare_inputs_embeds", "language_model", "lm_head", "gen_head", "gen_img_embeds"]
FP16 = ["lm_head", "gen_head", "gen_img_embeds"]
SPECIAL_BASE = 100000  # BOS id upstream


def cache_dir(arg):
    d = arg or os.environ.get("DIPTYCH_FULLSIZE_CACHE") or os.path.expanduser("~/.cache/diptych-fullsize")
    os.makedirs(os.path.join(d, "stamps"), exist_ok=True)
    return d


def stamp(cache, name):
    return os.path.join(cache, "stamps", f"{NAME}.{name}")


def done(cache, name):
    return os.path.exists(stamp(cache, name))


def mark(cache, name, info=None):
    with open(stamp(cache, name), "w") as f:
        json.dump({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **(info or {})}, f)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------------------
# checkpoint


def build_tokenizer(ckpt):
    """The tiny fixture's byte-level BPE, padded with unreachable filler tokens so that the
    special tokens sit at the upstream ids (BOS 100000, EOS 100001, ...)."""
    import make_tiny_janus as tiny

    info = tiny.build_tokenizer(ckpt)
    path = os.path.join(ckpt, "tokenizer.json")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    vocab = spec["model"]["vocab"]
    for i in range(len(vocab), SPECIAL_BASE):
        vocab[f"<|fill_{i}|>"] = i
    ids = {}
    for k, tok in enumerate(spec["added_tokens"]):
        tok["id"] = SPECIAL_BASE + k
        ids[tok["content"]] = tok["id"]
    for st in spec["post_processor"]["special_tokens"].values():
        st["ids"] = [ids[st["id"]]]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False)
    info["ids"] = {s: ids[s] for s in info["ids"]}
    info["size"] = SPECIAL_BASE + len(spec["added_tokens"])
    return info


def build_checkpoint(ckpt):
    import torch
    from transformers import (
        JanusConfig,
        JanusForConditionalGeneration,
        JanusVisionConfig,
        JanusVQVAEConfig,
        LlamaConfig,
    )

    import make_tiny_janus as tiny

    os.makedirs(ckpt, exist_ok=True)
    tok = build_tokenizer(ckpt)
    ids = tok["ids"]
    text = LlamaConfig(
        vocab_size=102400,
        hidden_size=2048,
        intermediate_size=5632,
        num_hidden_layers=24,
        num_attention_heads=16,
        num_key_value_heads=16,
        head_dim=128,
        max_position_embeddings=16384,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        hidden_act="silu",
        tie_word_embeddings=False,
        bos_token_id=ids[tiny.BOS],
        eos_token_id=ids[tiny.EOS],
        pad_token_id=ids[tiny.PAD],
    )
    vision = JanusVisionConfig(image_size=384, patch_size=16, hidden_size=1024, num_hidden_layers=24,
                               num_attention_heads=16, projection_dim=2048, num_image_tokens=576)
    vq = JanusVQVAEConfig(embed_dim=8, num_embeddings=16384, projection_dim=2048, image_token_embed_dim=2048)
    cfg = JanusConfig(text_config=text, vision_config=vision, vq_config=vq, image_token_id=ids[tiny.IMAGE])
    torch.manual_seed(SEED)
    log("init JanusForConditionalGeneration at Janus-Pro-1B size ...")
    model = JanusForConditionalGeneration(cfg).eval()
    # Weights ~ N(0, 1/fan_in) as in the tiny fixture: unit-scale activations and well separated
    # logits (the 0.02 initializer gives near-uniform distributions where sampling parity would
    # hinge on rounding).
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2 and "norm" not in name:
                p.copy_(torch.randn(p.shape, generator=g) / p[0].numel() ** 0.5)
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
        model.lm_head.weight[tok["size"]:] = 0
        model.model.generation_embeddings.weight.copy_(
            torch.randn(model.model.generation_embeddings.weight.shape, generator=g))
    gen = model.generation_config
    gen.bos_token_id, gen.eos_token_id, gen.pad_token_id = ids[tiny.BOS], ids[tiny.EOS], ids[tiny.PAD]
    gen.guidance_scale = 5
    gen.temperature = 1.0
    gen.generation_kwargs = {"boi_token_id": ids[tiny.BOI], "num_image_tokens": 576}
    gen._from_model_config = False
    n = sum(p.numel() for p in model.parameters())
    log(f"{n / 1e9:.3f} B parameters; saving ...")
    model.save_pretrained(ckpt, safe_serialization=True, max_shard_size="20GB")
    pre = {
        "background_color": [127, 127, 127], "do_convert_rgb": True, "do_normalize": True, "do_pad": True,
        "do_rescale": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5],
        "image_processor_type": "JanusImageProcessor", "image_std": [0.5, 0.5, 0.5], "min_size": 14,
        "processor_class": "JanusProcessor", "resample": 3, "rescale_factor": 1.0 / 255.0,
        "size": {"height": 384, "width": 384},
    }
    with open(os.path.join(ckpt, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)
    with open(os.path.join(ckpt, "processor_config.json"), "w") as f:
        json.dump({"processor_class": "JanusProcessor", "use_default_system_prompt": False}, f, indent=2)
    return {"parameters": n, "special_ids": ids}


# ------------------------------------------------------------------------------------------
# quantized variants


def onnx_path(out, graph, suffix):
    return os.path.join(out, "onnx", f"{graph}{suffix}.onnx")


def save(model, path):
    """Save with one external-data file when the weights are large (as the published files)."""
    import onnx

    for p in (path, path + "_data"):
        if os.path.exists(p):
            os.remove(p)
    big = sum(t.ByteSize() for t in model.graph.initializer) > (1 << 30)
    if big:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + "_data", size_threshold=1024)
    else:
        onnx.save_model(model, path)


def quantize_q4(src, dst):
    """MatMulNBits, 4 bits, block 32, symmetric, float32 scales (Transformers.js quantize.py)."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    model = onnx.load(src, load_external_data=True)
    q = MatMulNBitsQuantizer(model, bits=4, block_size=32, is_symmetric=True, accuracy_level=None)
    q.process()
    save(q.model.model, dst)


def to_float16(src, dst, keep_io_types):
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(src, load_external_data=True)
    model = convert_float_to_float16(model, keep_io_types=keep_io_types, disable_shape_infer=True)
    sys.path.insert(0, TOOLS)
    from export_janus import toposort

    toposort(model.graph)
    save(model, dst)


def run_step(args_list):
    """Run one step in a child process (memory goes back to the OS between steps)."""
    cmd = [sys.executable, os.path.abspath(__file__)] + args_list
    subprocess.check_call(cmd)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache")
    ap.add_argument("--steps", default="ckpt,fp32,q4,fp16,q4f16")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: KIND:GRAPH in a child process
    args = ap.parse_args(argv)
    cache = cache_dir(args.cache)
    root = os.path.join(cache, NAME)
    ckpt, out = os.path.join(root, "ckpt"), os.path.join(root, "onnx")

    if args.one:
        kind, graph = args.one.split(":")
        if kind == "q4":
            quantize_q4(onnx_path(out, graph, ""), onnx_path(out, graph, "_q4"))
        elif kind == "q4f16":
            to_float16(onnx_path(out, graph, "_q4"), onnx_path(out, graph, "_q4f16"),
                       keep_io_types=graph != "language_model")
        elif kind == "fp16":
            to_float16(onnx_path(out, graph, ""), onnx_path(out, graph, "_fp16"), keep_io_types=True)
        return

    steps = args.steps.split(",")
    if "ckpt" in steps and not done(cache, "ckpt"):
        log(f"checkpoint -> {ckpt}")
        info = build_checkpoint(ckpt)
        mark(cache, "ckpt", info)
    exporter = os.path.join(TOOLS, "export_janus.py")
    if "fp32" in steps:
        for g in GRAPHS:
            if done(cache, f"fp32.{g}"):
                continue
            log(f"export {g} fp32")
            subprocess.check_call([sys.executable, exporter, ckpt, out, "--dtype", "fp32", "--graphs", g])
            mark(cache, f"fp32.{g}")
    for kind, graphs in (("q4", Q4), ("fp16", FP16), ("q4f16", Q4F16)):
        if kind not in steps:
            continue
        for g in graphs:
            if done(cache, f"{kind}.{g}"):
                continue
            if kind == "q4f16" and not os.path.exists(onnx_path(out, g, "_q4")):
                log(f"quantize {g} q4 (for q4f16)")
                run_step(["--cache", cache, "--one", f"q4:{g}"])
            log(f"make {g} {kind}")
            run_step(["--cache", cache, "--one", f"{kind}:{g}"])
            mark(cache, f"{kind}.{g}")
        if kind == "q4f16":
            # q4 files made only as the source of a q4f16 one are not part of the published set.
            for g in Q4F16:
                if g not in Q4:
                    for p in (onnx_path(out, g, "_q4"), onnx_path(out, g, "_q4") + "_data"):
                        if os.path.exists(p):
                            os.remove(p)
    sizes = {}
    for f in sorted(os.listdir(os.path.join(out, "onnx"))):
        sizes[f] = os.path.getsize(os.path.join(out, "onnx", f))
    with open(os.path.join(root, "sizes.json"), "w") as f:
        json.dump(sizes, f, indent=1)
    log(f"done: {out}")


if __name__ == "__main__":
    main()
