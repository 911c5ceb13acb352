#!/usr/bin/env python3
"""Export a Janus-Pro checkpoint (transformers format) to the six-graph ONNX layout.

The layout, file names, I/O names and dtype conventions follow onnx-community/Janus-Pro-1B-ONNX
(the Transformers.js export), see docs/janus-onnx.md §1.1 and §2.2:

  OUT_DIR/
    config.json                 multi_modality-style config (+ transformers.js_config)
    generation_config.json      bos/eos/pad ids, num_image_tokens, sampling defaults
    preprocessor_config.json    VLMImageProcessor keys (image_size, mean/std, background_color)
    processor_config.json       VLChatProcessor keys (image tags, num_image_tokens, sft_format)
    tokenizer.json, tokenizer_config.json, special_tokens_map.json   (copied)
    export_info.json            this tool's record: versions, dims, every graph's I/O
    onnx/<graph><suffix>.onnx   graph = prepare_inputs_embeds | language_model | lm_head |
                                gen_head | gen_img_embeds | image_decode;
                                suffix = "" (fp32) or "_fp16" (fp16)
    onnx/<graph><suffix>.onnx_data   external weights (big graphs, or --external-data)

Graph I/O (D = hidden size, L = layers, H = KV heads, hd = head dim, G = image tokens,
V = vocab, C = codebook size, S = image_size):

  prepare_inputs_embeds: input_ids int64 [B,T], pixel_values f32 [B,N,3,S,S],
                         images_seq_mask bool [B,T], images_emb_mask bool [B,N,G']
                         (G' dynamic: G, or 0 as in Transformers.js' [1,1,0] decode-step feed)
                         -> inputs_embeds f32 [B,T,D]
  language_model: inputs_embeds [B,s,D], attention_mask int64 [B,P+s], position_ids int64 [B,s],
                  past_key_values.{i}.key/.value [B,H,P,hd] -> hidden_states [B,s,D],
                  present.{i}.key/.value [B,H,P+s,hd]     (hidden_states are post final RMSNorm)
  lm_head:        hidden_states [B,s,D] -> logits [B,s,V]
  gen_head:       hidden_states [B,s,D] -> logits [B,s,C]
  gen_img_embeds: image_ids int64 [B,s] -> inputs_embeds [B,s,D]
  image_decode:   generated_tokens int64 [B,G] -> decoded_image f32 [B,3,S,S] (about [-1,1])

fp16 files have float16 for every floating input/output (int64/bool stay); fp32 files float32.

Usage:
  export_janus.py CHECKPOINT_DIR OUT_DIR [--dtype fp32|fp16] [--opset N]
                  [--graphs a,b,...] [--external-data auto|none|all|GRAPH[,GRAPH]] [--check] [--clean]

A 7B checkpoint needs roughly 4x its parameter count in bytes of RAM (float32 weights, ~30 GB)
plus the exported graph in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
from torch import nn

GRAPHS = ["prepare_inputs_embeds", "language_model", "lm_head", "gen_head", "gen_img_embeds", "image_decode"]
SUFFIX = {"fp32": "", "fp16": "_fp16"}
EXTERNAL_AUTO_BYTES = 1 << 30  # graphs with more weight bytes than this get a .onnx_data sidecar
COPY_FILES = [
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.json",
    "chat_template.jinja",
]


# ----------------------------------------------------------------------------------------------
# Wrapper modules, one per graph. They only call the transformers Janus submodules.


class PrepareInputsEmbeds(nn.Module):
    """Token embedding + understanding vision tower + aligner, scattered into image positions.

    Same semantics as MultiModalityCausalLM.prepare_inputs_embeds: rows where images_seq_mask is
    true receive, in row-major order, the image features selected by images_emb_mask. This module
    is the PyTorch reference; the exported graph is composed from VisionFeatures (inside an ONNX
    If, skipped when there are zero images) and ScatterEmbeds, so zero-size pixel_values
    [B,0,3,S,S] or [0,0,3,S,S] with an empty images_emb_mask work without running the tower.
    """

    def __init__(self, model):
        super().__init__()
        self.features = VisionFeatures(model)
        self.scatter = ScatterEmbeds(model)

    def forward(self, input_ids, pixel_values, images_seq_mask, images_emb_mask):
        c, h, w = pixel_values.shape[2], pixel_values.shape[3], pixel_values.shape[4]
        pv = pixel_values.reshape(-1, c, h, w)
        d = self.scatter.embed.weight.shape[1]
        feats = self.features(pv) if pv.shape[0] > 0 else torch.zeros(0, d)
        return self.scatter(input_ids, images_seq_mask, images_emb_mask, feats)


class VisionFeatures(nn.Module):
    """pixel_values [M,3,S,S] (M >= 1) -> aligned image features [M*G, D]."""

    def __init__(self, model):
        super().__init__()
        self.vision = model.model.vision_model
        self.aligner = model.model.aligner

    def forward(self, pixel_values):
        feats = self.aligner(self.vision(pixel_values).last_hidden_state)
        return feats.reshape(-1, feats.shape[-1])


class ScatterEmbeds(nn.Module):
    """Embed ids, then write image_features (selected by images_emb_mask) into masked rows."""

    def __init__(self, model):
        super().__init__()
        self.embed = model.model.language_model.get_input_embeddings()

    def forward(self, input_ids, images_seq_mask, images_emb_mask, image_features):
        emb = self.embed(input_ids)
        d = emb.shape[-1]
        valid = image_features[images_emb_mask.reshape(-1)]
        # Row 0 is a dummy so gathering works when there is no image at all.
        valid = torch.cat([torch.zeros(1, d, dtype=valid.dtype), valid], dim=0)
        seq = images_seq_mask.reshape(-1).to(torch.int64)
        idx = torch.cumsum(seq, dim=0) * seq
        picked = valid[idx].reshape(emb.shape)
        return torch.where(images_seq_mask.unsqueeze(-1), picked, emb)


class LanguageModel(nn.Module):
    """LLaMA decoder stack (no embedding, no head) with a flat KV cache, final RMSNorm included."""

    def __init__(self, model):
        super().__init__()
        self.lm = model.model.language_model
        self.num_layers = self.lm.config.num_hidden_layers

    def forward(self, inputs_embeds, attention_mask, position_ids, *past):
        from transformers.cache_utils import DynamicCache

        cache = DynamicCache()
        for i in range(self.num_layers):
            cache.update(past[2 * i], past[2 * i + 1], i)
        b, s = inputs_embeds.shape[0], inputs_embeds.shape[1]
        total = attention_mask.shape[1]
        p = total - s
        # Additive 4D mask: causal over the full sequence, plus the 2D padding mask (1 = attend).
        q_pos = torch.arange(s, dtype=torch.int64).unsqueeze(1) + p
        k_pos = torch.arange(total, dtype=torch.int64).unsqueeze(0)
        allowed = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0) & (attention_mask[:, None, None, :] != 0)
        zero = torch.zeros((), dtype=inputs_embeds.dtype)
        neg = torch.tensor(torch.finfo(inputs_embeds.dtype).min, dtype=inputs_embeds.dtype)
        mask4d = torch.where(allowed, zero, neg)
        out = self.lm(
            inputs_embeds=inputs_embeds,
            attention_mask=mask4d,
            position_ids=position_ids,
            past_key_values=cache,
            use_cache=True,
        )
        presents = []
        for layer in out.past_key_values.layers:
            presents += [layer.keys, layer.values]
        return (out.last_hidden_state, *presents)


class LMHead(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.head = model.lm_head

    def forward(self, hidden_states):
        return self.head(hidden_states)


class GenHead(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.head = model.model.generation_head

    def forward(self, hidden_states):
        return self.head(hidden_states)


class GenImgEmbeds(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.emb = model.model.generation_embeddings
        self.aligner = model.model.generation_aligner

    def forward(self, image_ids):
        return self.aligner(self.emb(image_ids))


class ImageDecode(nn.Module):
    """VQ-16 decode_code: codebook lookup (l2-normalised) -> post_quant_conv -> decoder, NCHW."""

    def __init__(self, model):
        super().__init__()
        self.vq = model.model.vqmodel

    def forward(self, generated_tokens):
        return self.vq.decode(generated_tokens)


# ----------------------------------------------------------------------------------------------


class Dims:
    def __init__(self, model):
        cfg = model.config
        t = cfg.text_config
        self.hidden = t.hidden_size
        self.layers = t.num_hidden_layers
        self.heads = t.num_attention_heads
        self.kv_heads = t.num_key_value_heads or t.num_attention_heads
        self.head_dim = getattr(t, "head_dim", None) or t.hidden_size // t.num_attention_heads
        self.vocab = t.vocab_size
        self.image_size = cfg.vision_config.image_size
        self.patch = cfg.vision_config.patch_size
        self.grid = cfg.vq_config.num_patches
        self.image_tokens = cfg.vision_config.num_image_tokens
        self.codebook = cfg.vq_config.num_embeddings
        if self.grid * self.grid != self.image_tokens:
            raise SystemExit(
                f"config: vq_config.num_patches={self.grid} gives {self.grid**2} generation tokens but "
                f"vision_config.num_image_tokens={self.image_tokens}; expected them equal"
            )
        ups = 2 ** (len(cfg.vq_config.channel_multiplier) - 1)
        self.decoded_size = self.grid * ups

    def as_dict(self):
        return dict(self.__dict__)


def graph_spec(name, model, dims):
    """Return (module, example args, input names, output names, dynamic axes)."""
    B = 2
    if name == "prepare_inputs_embeds":
        T = dims.image_tokens + 5
        ids = torch.randint(0, dims.vocab, (B, T), dtype=torch.int64)
        pv = torch.randn(B, 1, 3, dims.image_size, dims.image_size)
        seq = torch.zeros(B, T, dtype=torch.bool)
        seq[:, 2 : 2 + dims.image_tokens] = True
        emb = torch.ones(B, 1, dims.image_tokens, dtype=torch.bool)
        return (
            PrepareInputsEmbeds(model),
            (ids, pv, seq, emb),
            ["input_ids", "pixel_values", "images_seq_mask", "images_emb_mask"],
            ["inputs_embeds"],
            {
                "input_ids": {0: "batch_size", 1: "sequence_length"},
                "pixel_values": {0: "batch_size", 1: "num_images"},
                "images_seq_mask": {0: "batch_size", 1: "sequence_length"},
                "images_emb_mask": {0: "batch_size", 1: "num_images", 2: "num_image_tokens"},
                "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            },
        )
    if name == "language_model":
        S, P = 3, 4
        args = [
            torch.randn(B, S, dims.hidden),
            torch.ones(B, P + S, dtype=torch.int64),
            torch.arange(P, P + S, dtype=torch.int64).unsqueeze(0).repeat(B, 1),
        ]
        inames = ["inputs_embeds", "attention_mask", "position_ids"]
        onames = ["hidden_states"]
        axes = {
            "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "hidden_states": {0: "batch_size", 1: "sequence_length"},
        }
        for i in range(dims.layers):
            for kv in ("key", "value"):
                args.append(torch.randn(B, dims.kv_heads, P, dims.head_dim))
                n = f"past_key_values.{i}.{kv}"
                inames.append(n)
                axes[n] = {0: "batch_size", 2: "past_sequence_length"}
        for i in range(dims.layers):
            for kv in ("key", "value"):
                n = f"present.{i}.{kv}"
                onames.append(n)
                axes[n] = {0: "batch_size", 2: "total_sequence_length"}
        return LanguageModel(model), tuple(args), inames, onames, axes
    if name in ("lm_head", "gen_head"):
        mod = LMHead(model) if name == "lm_head" else GenHead(model)
        return (
            mod,
            (torch.randn(B, 3, dims.hidden),),
            ["hidden_states"],
            ["logits"],
            {"hidden_states": {0: "batch_size", 1: "sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}},
        )
    if name == "gen_img_embeds":
        return (
            GenImgEmbeds(model),
            (torch.randint(0, dims.codebook, (B, 3), dtype=torch.int64),),
            ["image_ids"],
            ["inputs_embeds"],
            {"image_ids": {0: "batch_size", 1: "sequence_length"}, "inputs_embeds": {0: "batch_size", 1: "sequence_length"}},
        )
    if name == "image_decode":
        return (
            ImageDecode(model),
            (torch.randint(0, dims.codebook, (B, dims.image_tokens), dtype=torch.int64),),
            ["generated_tokens"],
            ["decoded_image"],
            {"generated_tokens": {0: "batch_size"}, "decoded_image": {0: "batch_size"}},
        )
    raise SystemExit(f"unknown graph {name!r}; expected one of {', '.join(GRAPHS)}")


def weight_bytes(proto):
    """Bytes of initializers, subgraphs (If branches) included."""

    def graph_bytes(g):
        n = sum(int(np.prod(t.dims)) * (2 if t.data_type == 10 else 4) for t in g.initializer)
        for node in g.node:
            for a in node.attribute:
                if a.type == a.GRAPH:
                    n += graph_bytes(a.g)
        return n

    return graph_bytes(proto.graph)


def to_fp16(proto):
    """Convert a float32 graph to float16 weights and float16 floating I/O."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    # Shape inference serialises the model, which protobuf refuses above 2 GB.
    big = weight_bytes(proto) > EXTERNAL_AUTO_BYTES
    proto = convert_float_to_float16(proto, keep_io_types=False, disable_shape_infer=big)
    toposort(proto.graph)
    return proto


def toposort(graph):
    """Re-order graph.node topologically (the fp16 pass can append Casts out of order)."""
    known = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    nodes = list(graph.node)
    ordered = []
    while nodes:
        rest = []
        for n in nodes:
            if _ready(n, known):
                ordered.append(n)
                known.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(nodes):
            raise SystemExit(f"toposort: cannot place node {rest[0].name} (inputs {list(rest[0].input)})")
        nodes = rest
    del graph.node[:]
    graph.node.extend(ordered)


def _ready(node, known):
    """Inputs known; a node with subgraphs also needs the outer-scope names they read."""
    if not all(x in known for x in node.input):
        return False
    for a in node.attribute:
        if a.type != a.GRAPH:
            continue
        inner = {t.name for t in a.g.initializer} | {""}
        for n in a.g.node:
            inner.update(n.output)
        for n in a.g.node:
            if any(x not in inner and x not in known for x in n.input):
                return False
    return True


def trace(mod, args, inames, onames, axes, opset):
    """torch.onnx.export (TorchScript tracer) into an in-memory ModelProto."""
    import onnx

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, "g.onnx")
        with torch.no_grad():
            torch.onnx.export(
                mod,
                args,
                tmp_path,
                input_names=inames,
                output_names=onames,
                dynamic_axes=axes,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
        return onnx.load(tmp_path, load_external_data=True)


def build_prepare_inputs_embeds(model, dims, opset):
    """Compose ScatterEmbeds with VisionFeatures inside an If (skipped for zero images)."""
    from onnx import TensorProto, helper

    S, G, D = dims.image_size, dims.image_tokens, dims.hidden
    vis = trace(
        VisionFeatures(model),
        (torch.randn(2, 3, S, S),),
        ["pixel_values_flat"],
        ["image_features"],
        {"pixel_values_flat": {0: "num_flat_images"}, "image_features": {0: "num_features"}},
        opset,
    )
    B, T = 2, G + 5
    seq = torch.zeros(B, T, dtype=torch.bool)
    seq[:, 2 : 2 + G] = True
    sc = trace(
        ScatterEmbeds(model),
        (
            torch.randint(0, dims.vocab, (B, T), dtype=torch.int64),
            seq,
            torch.ones(B, 1, G, dtype=torch.bool),
            torch.randn(B * G, D),
        ),
        ["input_ids", "images_seq_mask", "images_emb_mask", "image_features"],
        ["inputs_embeds"],
        {
            "input_ids": {0: "batch_size", 1: "sequence_length"},
            "images_seq_mask": {0: "batch_size", 1: "sequence_length"},
            "images_emb_mask": {0: "batch_size", 1: "num_images", 2: "num_image_tokens"},
            "image_features": {0: "num_features"},
            "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
        },
        opset,
    )
    # Then-branch: the vision graph with every name prefixed (names are global across subgraphs).
    vg = vis.graph

    def rn(n):
        return n if n in ("", "pixel_values_flat") else "vision/" + n

    for node in vg.node:
        node.input[:] = [rn(x) for x in node.input]
        node.output[:] = [rn(x) for x in node.output]
        node.name = "vision/" + node.name
    for t in vg.initializer:
        t.name = rn(t.name)
    for vi in vg.value_info:
        vi.name = rn(vi.name)
    vout = vg.output[0]
    vout.name = rn(vout.name)
    then_g = helper.make_graph(list(vg.node), "vision_features", [], [vout], list(vg.initializer), value_info=list(vg.value_info))
    else_g = helper.make_graph(
        [
            helper.make_node(
                "Constant", [], ["no_images/shape"], value=helper.make_tensor("s", TensorProto.INT64, [2], [0, D])
            ),
            helper.make_node(
                "ConstantOfShape",
                ["no_images/shape"],
                ["no_images/features"],
                value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0]),
            ),
        ],
        "no_images",
        [],
        [helper.make_tensor_value_info("no_images/features", TensorProto.FLOAT, [0, D])],
    )

    def const(name, vals):
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(vals)], vals))

    pre = [
        helper.make_node("Shape", ["pixel_values"], ["pv/shape"]),
        const("pv/c0", [0]),
        const("pv/c2", [2]),
        const("pv/c5", [5]),
        helper.make_node("Slice", ["pv/shape", "pv/c0", "pv/c2"], ["pv/bn"]),
        helper.make_node("ReduceProd", ["pv/bn"], ["pv/m"], keepdims=1),
        helper.make_node("Slice", ["pv/shape", "pv/c2", "pv/c5"], ["pv/chw"]),
        helper.make_node("Concat", ["pv/m", "pv/chw"], ["pv/flat_shape"], axis=0),
        helper.make_node("Reshape", ["pixel_values", "pv/flat_shape"], ["pixel_values_flat"]),
        helper.make_node("Greater", ["pv/m", "pv/c0"], ["pv/has_images"]),
        helper.make_node("If", ["pv/has_images"], ["image_features"], then_branch=then_g, else_branch=else_g),
    ]
    g = sc.graph
    feat_in = [i for i in g.input if i.name == "image_features"][0]
    g.input.remove(feat_in)
    pv_in = helper.make_tensor_value_info(
        "pixel_values", TensorProto.FLOAT, ["batch_size", "num_images", 3, S, S]
    )
    g.input.insert(1, pv_in)
    nodes = pre + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    return sc


def export_graph(name, model, dims, out_dir, dtype, opset, external):
    import onnx

    fname = f"{name}{SUFFIX[dtype]}.onnx"
    path = os.path.join(out_dir, "onnx", fname)
    if name == "prepare_inputs_embeds":
        proto = build_prepare_inputs_embeds(model, dims, opset)
    else:
        mod, args, inames, onames, axes = graph_spec(name, model, dims)
        proto = trace(mod, args, inames, onames, axes, opset)
    if dtype == "fp16":
        proto = to_fp16(proto)
    wb = weight_bytes(proto)
    use_ext = external == "all" or (external == "auto" and wb > EXTERNAL_AUTO_BYTES) or name in external.split(",")
    for suffix in (".onnx", ".onnx_data"):
        p = os.path.join(out_dir, "onnx", name + SUFFIX[dtype] + suffix)
        if os.path.exists(p):
            os.remove(p)
    proto.producer_name = "diptych-export_janus"
    if use_ext:
        onnx.save_model(
            proto,
            path,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=fname + "_data",
            size_threshold=0,
        )
    else:
        onnx.save_model(proto, path)
    onnx.checker.check_model(path)
    return fname, use_ext, io_summary(path)


def io_summary(path):
    import onnx

    m = onnx.load(path, load_external_data=False)
    names = {1: "float32", 10: "float16", 7: "int64", 9: "bool"}

    def one(v):
        tt = v.type.tensor_type
        shape = [d.dim_param if d.dim_param else d.dim_value for d in tt.shape.dim]
        return {"name": v.name, "dtype": names.get(tt.elem_type, str(tt.elem_type)), "shape": shape}

    return {"inputs": [one(v) for v in m.graph.input], "outputs": [one(v) for v in m.graph.output]}


# ----------------------------------------------------------------------------------------------
# Verification: ORT on random inputs vs the PyTorch wrappers.


def check_graph(name, model, dims, out_dir, dtype):
    import onnxruntime as ort

    mod, args, inames, onames, _ = graph_spec(name, model, dims)
    path = os.path.join(out_dir, "onnx", f"{name}{SUFFIX[dtype]}.onnx")
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = mod(*args)
    if isinstance(ref, torch.Tensor):
        ref = (ref,)
    feeds = {}
    for n, a in zip(inames, args):
        x = a.numpy()
        if dtype == "fp16" and x.dtype == np.float32:
            x = x.astype(np.float16)
        feeds[n] = x
    got = sess.run(onames, feeds)
    worst = 0.0
    for n, r, g in zip(onames, ref, got):
        r = r.numpy().astype(np.float64)
        g = np.asarray(g).astype(np.float64)
        if r.shape != g.shape:
            raise SystemExit(f"check {name}: output {n} shape {g.shape}, expected {r.shape}")
        rel = np.abs(r - g).max() / max(np.abs(r).max(), 1e-12)
        worst = max(worst, rel)
    if name == "prepare_inputs_embeds":
        # Zero images (Transformers.js decode-step form): only the token embedding is used.
        ids = args[0][:, :3]
        z = {
            "input_ids": ids.numpy(),
            "pixel_values": np.zeros((0, 0) + tuple(args[1].shape[2:]), np.float32),
            "images_seq_mask": np.zeros(ids.shape, bool),
            "images_emb_mask": np.zeros((ids.shape[0], 1, 0), bool),
        }
        if dtype == "fp16":
            z["pixel_values"] = z["pixel_values"].astype(np.float16)
        g0 = np.asarray(sess.run(None, z)[0], np.float64)
        with torch.no_grad():
            r0 = mod.scatter.embed(ids).numpy()
        worst = max(worst, np.abs(g0 - r0).max() / np.abs(r0).max())
    tol = 1e-4 if dtype == "fp32" else 5e-2
    status = "ok" if worst <= tol else "FAIL"
    print(f"  check {name}{SUFFIX[dtype]}: max rel diff {worst:.3g} (tol {tol}) {status}")
    if worst > tol:
        raise SystemExit(f"check failed for {name}{SUFFIX[dtype]}")
    return worst


# ----------------------------------------------------------------------------------------------
# Side files in the upstream (deepseek multi_modality / VLChatProcessor) layout.


def read_json(path, default=None):
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def special_ids(ckpt):
    """Resolve the special-token ids from tokenizer.json."""
    tok = read_json(os.path.join(ckpt, "tokenizer.json"))
    if tok is None:
        raise SystemExit(f"{ckpt}: tokenizer.json missing (needed for special-token ids)")
    ids = {t["content"]: t["id"] for t in tok.get("added_tokens", [])}
    ids.update({k: v for k, v in tok["model"]["vocab"].items() if k.startswith("<")})
    want = {
        "bos": "<｜begin▁of▁sentence｜>",
        "eos": "<｜end▁of▁sentence｜>",
        "pad": "<｜▁pad▁｜>",
        "boi": "<begin_of_image>",
        "eoi": "<end_of_image>",
        "image": "<image_placeholder>",
    }
    out = {}
    for k, s in want.items():
        if s not in ids:
            raise SystemExit(f"{ckpt}/tokenizer.json: special token {s!r} ({k}) not found")
        out[k] = ids[s]
    return out


def write_side_files(ckpt, out_dir, model, dims):
    cfg = model.config
    t = cfg.text_config
    v = cfg.vision_config
    vq = cfg.vq_config
    ids = special_ids(ckpt)
    if ids["image"] != cfg.image_token_id:
        raise SystemExit(
            f"{ckpt}: config image_token_id={cfg.image_token_id} but tokenizer.json has "
            f"<image_placeholder>={ids['image']}"
        )
    siglip_name = (
        "siglip_large_patch16_384"
        if (v.hidden_size, v.num_hidden_layers, v.patch_size, v.image_size) == (1024, 24, 16, 384)
        else f"siglip_custom_patch{v.patch_size}_{v.image_size}"
    )
    kv_dtype = {"fp16": "float16", "q4f16": "float16"}
    config = {
        "aligner_config": {
            "cls": "MlpProjector",
            "model_type": "aligner",
            "params": {"depth": v.depth, "input_dim": v.hidden_size, "n_embed": v.projection_dim, "projector_type": "mlp_gelu"},
        },
        "architectures": ["MultiModalityCausalLM"],
        "gen_aligner_config": {
            "cls": "MlpProjector",
            "model_type": "gen_aligner",
            "params": {
                "depth": vq.num_hidden_layers,
                "input_dim": vq.embed_dim,
                "n_embed": vq.projection_dim,
                "projector_type": "mlp_gelu",
            },
        },
        "gen_head_config": {
            "cls": "vision_head",
            "model_type": "gen_head",
            "params": {
                "image_token_embed": vq.projection_dim,
                "image_token_size": vq.num_embeddings,
                "n_embed": vq.image_token_embed_dim,
            },
        },
        "gen_vision_config": {
            "cls": "VQ-16",
            "model_type": "gen_vision",
            "params": {"image_token_size": vq.num_embeddings, "n_embed": vq.embed_dim},
        },
        "language_config": {
            "hidden_size": t.hidden_size,
            "intermediate_size": t.intermediate_size,
            "max_position_embeddings": t.max_position_embeddings,
            "num_attention_heads": t.num_attention_heads,
            "num_hidden_layers": t.num_hidden_layers,
            "num_key_value_heads": dims.kv_heads,
            "head_dim": dims.head_dim,
            "rms_norm_eps": t.rms_norm_eps,
            "rope_theta": getattr(t, "rope_theta", 10000.0),
            "torch_dtype": "float32",
            "vocab_size": t.vocab_size,
        },
        "model_type": "multi_modality",
        "torch_dtype": "float32",
        "vision_config": {
            "cls": "CLIPVisionTower",
            "model_type": "vision",
            "params": {
                "image_size": v.image_size,
                "model_name": siglip_name,
                "select_feature": "same",
                "select_layer": -1,
                "patch_size": v.patch_size,
            },
        },
        "transformers.js_config": {"kv_cache_dtype": kv_dtype},
    }
    # Every graph file in onnx/ that has a sidecar (this run's or an earlier run's).
    onnx_dir = os.path.join(out_dir, "onnx")
    ext = sorted(f for f in os.listdir(onnx_dir) if f.endswith(".onnx") and os.path.exists(os.path.join(onnx_dir, f + "_data")))
    if ext:
        config["transformers.js_config"]["use_external_data_format"] = {f: True for f in ext}
    write_json(os.path.join(out_dir, "config.json"), config)

    gen = {
        "bos_token_id": ids["bos"],
        "do_sample": True,
        "eos_token_id": ids["eos"],
        "num_image_tokens": dims.image_tokens,
        "pad_token_id": ids["pad"],
        "temperature": 0.7,
        "top_p": 0.95,
    }
    write_json(os.path.join(out_dir, "generation_config.json"), gen)

    pre_src = read_json(os.path.join(ckpt, "preprocessor_config.json"), {})
    pre = {
        "background_color": list(pre_src.get("background_color", [127, 127, 127])),
        "do_normalize": pre_src.get("do_normalize", True),
        "image_mean": pre_src.get("image_mean", [0.5, 0.5, 0.5]),
        "image_processor_type": "VLMImageProcessor",
        "image_size": v.image_size,
        "image_std": pre_src.get("image_std", [0.5, 0.5, 0.5]),
        "min_size": pre_src.get("min_size", 14),
        "processor_class": "VLChatProcessor",
        "rescale_factor": pre_src.get("rescale_factor", 1.0 / 255.0),
    }
    write_json(os.path.join(out_dir, "preprocessor_config.json"), pre)

    proc = {
        "add_special_token": False,
        "ignore_id": -100,
        "image_end_tag": "<end_of_image>",
        "image_start_tag": "<begin_of_image>",
        "image_tag": "<image_placeholder>",
        "mask_prompt": True,
        "num_image_tokens": dims.image_tokens,
        "processor_class": "VLChatProcessor",
        "sft_format": "deepseek",
    }
    write_json(os.path.join(out_dir, "processor_config.json"), proc)

    for f in COPY_FILES:
        src = os.path.join(ckpt, f)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(out_dir, f))
    return ids


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="transformers-format Janus checkpoint dir (JanusForConditionalGeneration)")
    ap.add_argument("out", help="output dir (six-graph layout)")
    ap.add_argument("--dtype", choices=sorted(SUFFIX), default="fp32")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--graphs", default=",".join(GRAPHS), help="comma-separated subset of graphs")
    ap.add_argument(
        "--external-data",
        default="auto",
        help="auto (graphs over 1 GiB of weights), none, all, or a comma-separated list of graphs",
    )
    ap.add_argument("--check", action="store_true", help="compare ORT with PyTorch on random inputs")
    ap.add_argument("--clean", action="store_true", help="delete OUT/onnx first")
    args = ap.parse_args(argv)

    graphs = [g for g in args.graphs.split(",") if g]
    for g in graphs:
        if g not in GRAPHS:
            raise SystemExit(f"--graphs: unknown graph {g!r}; expected one of {', '.join(GRAPHS)}")
    if not os.path.isfile(os.path.join(args.checkpoint, "config.json")):
        raise SystemExit(f"{args.checkpoint}: config.json not found (expected a transformers Janus checkpoint)")
    ckcfg = read_json(os.path.join(args.checkpoint, "config.json"))
    if ckcfg.get("model_type") != "janus":
        raise SystemExit(
            f"{args.checkpoint}/config.json: model_type={ckcfg.get('model_type')!r}, expected 'janus' "
            "(convert deepseek-ai checkpoints with transformers' convert_janus_weights_to_hf.py, or use "
            "deepseek-community/Janus-Pro-1B / -7B)"
        )

    import transformers
    from transformers import JanusForConditionalGeneration

    torch.manual_seed(0)
    model = JanusForConditionalGeneration.from_pretrained(
        args.checkpoint, torch_dtype=torch.float32, attn_implementation="eager"
    ).eval()
    dims = Dims(model)
    if args.clean and os.path.isdir(os.path.join(args.out, "onnx")):
        shutil.rmtree(os.path.join(args.out, "onnx"))
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)

    info_path = os.path.join(args.out, "export_info.json")
    info = read_json(info_path, {}) if not args.clean else {}
    info.setdefault("graphs", {})
    for g in graphs:
        print(f"export {g} ({args.dtype}) ...", flush=True)
        fname, ext, io = export_graph(g, model, dims, args.out, args.dtype, args.opset, args.external_data)
        size = os.path.getsize(os.path.join(args.out, "onnx", fname))
        if ext:
            size += os.path.getsize(os.path.join(args.out, "onnx", fname + "_data"))
        info["graphs"][fname] = {"graph": g, "dtype": args.dtype, "external_data": ext, "bytes": size, **io}
        if args.check:
            check_graph(g, model, dims, args.out, args.dtype)
    ids = write_side_files(args.checkpoint, args.out, model, dims)
    info.update(
        {
            "tool": "tools/export_janus.py",
            "source_checkpoint": os.path.basename(os.path.abspath(args.checkpoint)),
            "opset": args.opset,
            "versions": {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "onnx": __import__("onnx").__version__,
                "python": sys.version.split()[0],
            },
            "dims": dims.as_dict(),
            "special_token_ids": ids,
        }
    )
    info["graphs"] = dict(sorted(info["graphs"].items()))
    write_json(info_path, info)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
