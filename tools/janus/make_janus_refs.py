#!/usr/bin/env python3
"""Write Janus parity fixtures: testdata/janus/refs/manifest.json + raw little-endian arrays.

The reference is transformers' PyTorch Janus (JanusForConditionalGeneration) on the tiny
checkpoint written by make_tiny_janus.py, driven exactly like deepseek-ai/Janus
(generation_inference.py / inference.py), see docs/janus-onnx.md §3-§4. Every case is re-run
with onnxruntime on the exported graphs in testdata/janus/tiny/onnx and the script fails if
ORT (fp32 graphs) differs from PyTorch by more than 1e-4 relative (max |a-b| / max |b|).

Cases:
  t2i   teacher-forced text-to-image: prompt, CFG pair ids, K = all grid tokens fixed,
        per step cond / uncond gen_head logits and CFG logits (cfg 5); greedy CFG tokens
        (argmax, checked against transformers' generate(generation_mode="image")).
  decode  VQ decode of the fixed token grid: float NCHW output and uint8 HWC (PNG too).
  caption greedy understanding: committed PNG + question -> expanded prompt ids, masks,
        pixel_values (reference VLM preprocessing), inputs_embeds, per-step lm_head logits,
        generated ids and text (transformers generate, do_sample False).
  tokenizer  a few strings -> ids.

Usage: make_janus_refs.py [--ckpt tools/janus/tiny_ckpt] [--model testdata/janus/tiny]
                          [--out testdata/janus/refs]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import make_tiny_janus as tiny  # noqa: E402

CFG_WEIGHT = 5.0
T2I_PROMPT = "A red fox sitting in the snow at sunset, digital art."
CAPTION_QUESTION = "Describe this image in detail."
CAPTION_MAX_NEW = 12
TOL_FP32 = 1e-4


class Writer:
    def __init__(self, out):
        self.out = out
        self.arrays = {}
        os.makedirs(out, exist_ok=True)

    def add(self, name, arr, dtype):
        arr = np.ascontiguousarray(np.asarray(arr).astype(dtype))
        ext = {"float32": "f32", "int64": "i64", "uint8": "u8"}[np.dtype(dtype).name]
        fname = f"{name}.{ext}"
        arr.astype(arr.dtype.newbyteorder("<")).tofile(os.path.join(self.out, fname))
        self.arrays[name] = {"file": fname, "dtype": np.dtype(dtype).name, "shape": list(arr.shape)}
        return self.arrays[name]


def rel_diff(got, ref):
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        raise SystemExit(f"shape mismatch: got {got.shape}, reference {ref.shape}")
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12))


def sft_prompt(messages, system):
    """deepseek SFT template (janus/utils/conversation.py), content stripped, result stripped."""
    ret = system + "\n\n" if system else ""
    seps = ["\n\n", tiny.EOS]
    for i, (role, content) in enumerate(messages):
        content = content.strip()
        if content:
            ret += role + ": " + content + seps[i % 2]
        else:
            ret += role + ":"
    return ret.strip()


class Ort:
    """ORT sessions for one dtype combination (missing variants fall back to fp32)."""

    def __init__(self, model_dir, suffix=""):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.log_severity_level = 3
        self.s = {}
        for g in tiny_graphs():
            p = os.path.join(model_dir, "onnx", f"{g}{suffix}.onnx")
            if not os.path.exists(p):
                p = os.path.join(model_dir, "onnx", f"{g}.onnx")
            self.s[g] = ort.InferenceSession(p, so, providers=["CPUExecutionProvider"])

    def run(self, g, feeds):
        sess = self.s[g]
        fixed = {}
        for i in sess.get_inputs():
            x = feeds[i.name]
            if i.type == "tensor(float16)":
                x = x.astype(np.float16)
            elif i.type == "tensor(float)":
                x = x.astype(np.float32)
            fixed[i.name] = x
        outs = sess.run(None, fixed)
        return {o.name: np.asarray(v).astype(np.float32) if v.dtype == np.float16 else v for o, v in zip(sess.get_outputs(), outs)}

    def kv_shape(self):
        i = self.s["language_model"].get_inputs()[3]
        return i.shape[1], i.shape[3]

    def layers(self):
        return sum(1 for i in self.s["language_model"].get_inputs() if i.name.endswith(".key"))

    def empty_past(self, b):
        h, hd = self.kv_shape()
        return {
            f"past_key_values.{i}.{kv}": np.zeros((b, h, 0, hd), np.float32)
            for i in range(self.layers())
            for kv in ("key", "value")
        }

    def lm_step(self, embeds, past, pos0):
        b, s = embeds.shape[:2]
        total = pos0 + s
        feeds = {
            "inputs_embeds": embeds,
            "attention_mask": np.ones((b, total), np.int64),
            "position_ids": np.tile(np.arange(pos0, total, dtype=np.int64), (b, 1)),
            **past,
        }
        out = self.run("language_model", feeds)
        new_past = {k.replace("present.", "past_key_values."): v for k, v in out.items() if k.startswith("present.")}
        return out["hidden_states"], new_past


def tiny_graphs():
    return ["prepare_inputs_embeds", "language_model", "lm_head", "gen_head", "gen_img_embeds", "image_decode"]


# ----------------------------------------------------------------------------------------------


def torch_t2i(model, input_tokens, tokens):
    """Reference CFG loop (generation_inference.py) with teacher-forced tokens.

    input_tokens: [2, T] (cond, uncond). Returns cond, uncond, cfg logits [K, C] and the last
    prefill hidden state [2, D]."""
    lm = model.model.language_model
    embeds = model.get_input_embeddings()(input_tokens)
    past = None
    conds, unconds, cfgs = [], [], []
    prefill_hidden = None
    with torch.no_grad():
        for i, tok in enumerate(list(tokens) + [None]):
            out = lm(inputs_embeds=embeds, use_cache=True, past_key_values=past)
            past = out.past_key_values
            h = out.last_hidden_state[:, -1, :]
            if prefill_hidden is None:
                prefill_hidden = h.clone()
            logits = model.model.generation_head(h)
            c, u = logits[0], logits[1]
            conds.append(c)
            unconds.append(u)
            cfgs.append(u + CFG_WEIGHT * (c - u))
            if i == len(tokens) - 1 or tok is None:
                break
            nxt = torch.tensor([[tok], [tok]], dtype=torch.int64)
            embeds = model.prepare_embeddings_for_image_generation(nxt)
    st = lambda xs: torch.stack(xs).numpy()  # noqa: E731
    return st(conds), st(unconds), st(cfgs), prefill_hidden.numpy()


def torch_t2i_greedy(model, input_tokens, k):
    lm = model.model.language_model
    embeds = model.get_input_embeddings()(input_tokens)
    past = None
    toks = []
    with torch.no_grad():
        for i in range(k):
            out = lm(inputs_embeds=embeds, use_cache=True, past_key_values=past)
            past = out.past_key_values
            logits = model.model.generation_head(out.last_hidden_state[:, -1, :])
            cfg = logits[1] + CFG_WEIGHT * (logits[0] - logits[1])
            tok = int(torch.argmax(cfg))
            toks.append(tok)
            embeds = model.prepare_embeddings_for_image_generation(torch.tensor([[tok], [tok]]))
    return toks


def ort_t2i(ortm, input_tokens, tokens, image_size):
    b, t = input_tokens.shape
    pe = ortm.run(
        "prepare_inputs_embeds",
        {
            "input_ids": input_tokens,
            "pixel_values": np.zeros((0, 0, 3, image_size, image_size), np.float32),
            "images_seq_mask": np.zeros((b, t), bool),
            "images_emb_mask": np.zeros((b, 0, ortm_image_tokens(ortm)), bool),
        },
    )["inputs_embeds"]
    past = ortm.empty_past(b)
    hidden, past = ortm.lm_step(pe, past, 0)
    pos = t
    conds, unconds, cfgs = [], [], []
    for i, tok in enumerate(tokens):
        logits = ortm.run("gen_head", {"hidden_states": hidden[:, -1:, :]})["logits"][:, 0, :]
        c, u = logits[0], logits[1]
        conds.append(c)
        unconds.append(u)
        cfgs.append(u + CFG_WEIGHT * (c - u))
        if i == len(tokens) - 1:
            break
        emb = ortm.run("gen_img_embeds", {"image_ids": np.array([[tok], [tok]], np.int64)})["inputs_embeds"]
        hidden, past = ortm.lm_step(emb, past, pos)
        pos += 1
    return np.stack(conds), np.stack(unconds), np.stack(cfgs), pe


def ortm_image_tokens(ortm):
    """G from image_decode's fixed generated_tokens dim (images_emb_mask's last dim is dynamic)."""
    return ortm.s["image_decode"].get_inputs()[0].shape[1]


def ort_caption(ortm, ids, pixel_values, seq_mask, emb_mask, max_new, eos):
    pe = ortm.run(
        "prepare_inputs_embeds",
        {"input_ids": ids, "pixel_values": pixel_values, "images_seq_mask": seq_mask, "images_emb_mask": emb_mask},
    )["inputs_embeds"]
    past = ortm.empty_past(1)
    hidden, past = ortm.lm_step(pe, past, 0)
    pos = ids.shape[1]
    out_ids, all_logits = [], []
    size = pixel_values.shape[-1]
    for _ in range(max_new):
        logits = ortm.run("lm_head", {"hidden_states": hidden[:, -1:, :]})["logits"][0, 0]
        all_logits.append(logits)
        tok = int(np.argmax(logits))
        out_ids.append(tok)
        if tok == eos:
            break
        # Transformers.js style: prepare_inputs_embeds with zero-size image tensors.
        emb = ortm.run(
            "prepare_inputs_embeds",
            {
                "input_ids": np.array([[tok]], np.int64),
                "pixel_values": np.zeros((0, 0, 3, size, size), np.float32),
                "images_seq_mask": np.zeros((1, 1), bool),
                "images_emb_mask": np.zeros((1, 1, 0), bool),
            },
        )["inputs_embeds"]
        hidden, past = ortm.lm_step(emb, past, pos)
        pos += 1
    return out_ids, np.stack(all_logits), pe


# ----------------------------------------------------------------------------------------------


def make_caption_image(path):
    """A small non-square RGB test picture (48 wide, 32 high): gradient, disc, bars."""
    w, h = 48, 32
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = (x * 255 // (w - 1)).astype(np.uint8)
    img[..., 1] = (y * 255 // (h - 1)).astype(np.uint8)
    img[..., 2] = 96
    disc = (x - 30) ** 2 + (y - 14) ** 2 <= 8**2
    img[disc] = [250, 240, 40]
    img[:, 4:7] = [20, 20, 200]
    img[26:29, :] = [230, 30, 30]
    Image.fromarray(img, "RGB").save(path, optimize=True)


def reference_preprocess(img, image_size, min_size=14, background=(127, 127, 127)):
    """deepseek-ai/Janus VLMImageProcessor: long side -> image_size (PIL bicubic), pad centred."""
    img = img.convert("RGB")
    width, height = img.size
    max_size = max(width, height)
    size = [max(int(height / max_size * image_size), min_size), max(int(width / max_size * image_size), min_size)]
    img = img.resize((size[1], size[0]), Image.BICUBIC)
    w, h = img.size
    if w == h:
        sq = img
    elif w > h:
        sq = Image.new(img.mode, (w, w), background)
        sq.paste(img, (0, (w - h) // 2))
    else:
        sq = Image.new(img.mode, (h, h), background)
        sq.paste(img, ((h - w) // 2, 0))
    x = np.asarray(sq, np.float32).transpose(2, 0, 1) * (1.0 / 255.0)
    x = (x - 0.5) / 0.5
    return x, [size[0], size[1]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(HERE, "tiny_ckpt"))
    ap.add_argument("--model", default=os.path.join(ROOT, "testdata", "janus", "tiny"))
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "janus", "refs"))
    args = ap.parse_args(argv)

    import onnx
    import onnxruntime
    import tokenizers
    import transformers
    from transformers import AutoTokenizer, JanusForConditionalGeneration, JanusImageProcessor

    torch.manual_seed(0)
    model = JanusForConditionalGeneration.from_pretrained(args.ckpt, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(args.model)
    cfg = model.config
    grid = cfg.vq_config.num_patches
    n_img = cfg.vision_config.num_image_tokens
    image_size = cfg.vision_config.image_size
    ids = {k: tok.convert_tokens_to_ids(v) for k, v in dict(bos=tiny.BOS, eos=tiny.EOS, pad=tiny.PAD, boi=tiny.BOI, eoi=tiny.EOI, image=tiny.IMAGE).items()}
    w = Writer(args.out)
    ortm = Ort(args.model)
    ort16 = Ort(args.model, "_fp16")
    diffs = {}

    # ---- tokenizer vectors
    tok_cases = []
    for s in [
        "A red fox sitting in the snow at sunset, digital art.",
        "Hello world!\n\nHow are you today? 2025 apples",
        "Le café est très bon. 日本語のテキスト。",
        "<|User|>: <image_placeholder>\nDescribe this image.\n\n<|Assistant|>:",
        "  leading spaces and trailing  ",
    ]:
        e = tok(s)["input_ids"]
        tok_cases.append({"text": s, "ids": e, "decoded_skip_special": tok.decode(e, skip_special_tokens=True)})

    # ---- (a) text-to-image, teacher forced
    t2i_text = sft_prompt([("<|User|>", T2I_PROMPT), ("<|Assistant|>", "")], system="") + tiny.BOI
    rendered = tok.apply_chat_template(
        [{"role": "<|User|>", "content": T2I_PROMPT}, {"role": "<|Assistant|>", "content": ""}],
        chat_template="text_to_image",
        tokenize=False,
    )
    if rendered != t2i_text:
        raise SystemExit(f"text_to_image chat template renders {rendered!r}, reference {t2i_text!r}")
    cond = tok(t2i_text)["input_ids"]
    if cond[0] != ids["bos"] or cond[-1] != ids["boi"]:
        raise SystemExit(f"t2i ids must start with BOS and end with BOI: {cond}")
    uncond = [cond[0]] + [ids["pad"]] * (len(cond) - 2) + [cond[-1]]
    pair = np.array([cond, uncond], np.int64)
    rng = np.random.default_rng(7)
    fixed = rng.integers(0, cfg.vq_config.num_embeddings, size=n_img).astype(np.int64)
    c_ref, u_ref, g_ref, prefill_hidden = torch_t2i(model, torch.from_numpy(pair), fixed.tolist())
    c_ort, u_ort, g_ort, pe_ort = ort_t2i(ortm, pair, fixed.tolist(), image_size)
    with torch.no_grad():
        pe_ref = model.get_input_embeddings()(torch.from_numpy(pair)).numpy()
    diffs["t2i_prompt_embeds"] = rel_diff(pe_ort, pe_ref)
    diffs["t2i_cond_logits"] = rel_diff(c_ort, c_ref)
    diffs["t2i_uncond_logits"] = rel_diff(u_ort, u_ref)
    diffs["t2i_cfg_logits"] = rel_diff(g_ort, g_ref)
    c16, u16, g16, _ = ort_t2i(ort16, pair, fixed.tolist(), image_size)
    fp16_diffs = {"t2i_cfg_logits": rel_diff(g16, g_ref), "t2i_cond_logits": rel_diff(c16, c_ref)}

    greedy = torch_t2i_greedy(model, torch.from_numpy(pair), n_img)
    with torch.no_grad():
        hf = model.generate(
            inputs=torch.tensor([cond]),
            attention_mask=torch.ones(1, len(cond), dtype=torch.int64),
            generation_mode="image",
            do_sample=False,
            guidance_scale=CFG_WEIGHT,
        )
    hf_greedy = hf[0].tolist()
    if hf_greedy != greedy:
        raise SystemExit(f"greedy CFG loop {greedy} differs from transformers generate {hf_greedy}")
    cfg_margin = float(np.min([np.sort(r)[-1] - np.sort(r)[-2] for r in g_ref]))

    w.add("t2i_input_ids", pair, np.int64)
    w.add("t2i_image_tokens", fixed, np.int64)
    w.add("t2i_prompt_embeds", pe_ref, np.float32)
    w.add("t2i_prefill_last_hidden", prefill_hidden, np.float32)
    w.add("t2i_cond_logits", c_ref, np.float32)
    w.add("t2i_uncond_logits", u_ref, np.float32)
    w.add("t2i_cfg_logits", g_ref, np.float32)
    w.add("t2i_greedy_tokens", np.array(greedy), np.int64)

    # ---- (b) VQ decode of the fixed full grid
    with torch.no_grad():
        dec = model.model.vqmodel.decode(torch.from_numpy(fixed)[None]).numpy()
    dec_ort = ortm.run("image_decode", {"generated_tokens": fixed[None]})["decoded_image"]
    diffs["decoded_image"] = rel_diff(dec_ort, dec)
    u8 = np.clip((dec + 1) / 2 * 255, 0, 255).astype(np.uint8)[0].transpose(1, 2, 0)
    u8_ort = np.clip((dec_ort + 1) / 2 * 255, 0, 255).astype(np.uint8)[0].transpose(1, 2, 0)
    u8_max_lsb = int(np.abs(u8.astype(int) - u8_ort.astype(int)).max())
    w.add("decode_tokens", fixed[None], np.int64)
    w.add("decode_image_f32", dec, np.float32)
    w.add("decode_image_u8", u8, np.uint8)
    Image.fromarray(u8, "RGB").save(os.path.join(args.out, "decode_image.png"))

    # ---- (c) greedy caption
    img_path = os.path.join(args.out, "caption_input.png")
    if not os.path.exists(img_path):
        make_caption_image(img_path)
    img = Image.open(img_path)
    pv_ref, resized_hw = reference_preprocess(img, image_size)
    hf_proc = JanusImageProcessor.from_pretrained(args.ckpt)
    pv_hf = hf_proc(images=img, return_tensors="np")["pixel_values"][0]
    pv_hf_vs_ref = float(np.abs(pv_hf - pv_ref).max())

    cap_text = sft_prompt(
        [("<|User|>", tiny.IMAGE + "\n" + CAPTION_QUESTION), ("<|Assistant|>", "")], system=tiny.SYSTEM_PROMPT
    )
    rendered = tok.apply_chat_template(
        [{"role": "<|User|>", "content": tiny.IMAGE + "\n" + CAPTION_QUESTION}, {"role": "<|Assistant|>", "content": ""}],
        chat_template="default",
        tokenize=False,
    )
    if rendered != cap_text:
        raise SystemExit(f"default chat template renders {rendered!r}, reference {cap_text!r}")
    raw_ids = tok(cap_text)["input_ids"]
    expanded = []
    for t in raw_ids:
        if t == ids["image"]:
            expanded += [ids["boi"]] + [ids["image"]] * n_img + [ids["eoi"]]
        else:
            expanded.append(t)
    alt = tok(cap_text.replace(tiny.IMAGE, tiny.BOI + tiny.IMAGE * n_img + tiny.EOI))["input_ids"]
    if alt != expanded:
        raise SystemExit("expanding ids differs from tokenizing the expanded string")
    cap_ids = np.array([expanded], np.int64)
    seq_mask = cap_ids == ids["image"]
    emb_mask = np.ones((1, 1, n_img), bool)
    pv5 = pv_ref[None, None]
    with torch.no_grad():
        gen = model.generate(
            input_ids=torch.from_numpy(cap_ids),
            attention_mask=torch.ones_like(torch.from_numpy(cap_ids)),
            pixel_values=torch.from_numpy(pv_ref[None]),
            max_new_tokens=CAPTION_MAX_NEW,
            do_sample=False,
            eos_token_id=ids["eos"],
            pad_token_id=ids["eos"],
            return_dict_in_generate=True,
            output_logits=True,
        )
        emb_t = model.get_input_embeddings()(torch.from_numpy(cap_ids))
        feats = model.model.get_image_features(torch.from_numpy(pv_ref[None])).reshape(-1, emb_t.shape[-1])
        emb_t[torch.from_numpy(seq_mask)] = feats
        cap_embeds = emb_t.numpy()
    new_ids = gen.sequences[0, cap_ids.shape[1] :].tolist()
    cap_logits = torch.stack([lg[0] for lg in gen.logits]).numpy()
    ort_ids, ort_logits, ort_pe = ort_caption(ortm, cap_ids, pv5, seq_mask, emb_mask, CAPTION_MAX_NEW, ids["eos"])
    if ort_ids != new_ids:
        raise SystemExit(f"ORT greedy caption {ort_ids} differs from transformers {new_ids}")
    diffs["caption_inputs_embeds"] = rel_diff(ort_pe, cap_embeds)
    diffs["caption_logits"] = rel_diff(ort_logits, cap_logits)
    margins = [np.sort(r)[-1] - np.sort(r)[-2] for r in cap_logits]
    ids16, logits16, _ = ort_caption(ort16, cap_ids, pv5, seq_mask, emb_mask, CAPTION_MAX_NEW, ids["eos"])
    fp16_diffs["caption_logits"] = rel_diff(logits16, cap_logits) if len(ids16) == len(new_ids) else None
    fp16_diffs["caption_ids_equal"] = ids16 == new_ids

    w.add("caption_input_ids", cap_ids, np.int64)
    w.add("caption_images_seq_mask", seq_mask.astype(np.uint8), np.uint8)
    w.add("caption_pixel_values", pv5, np.float32)
    w.add("caption_inputs_embeds", cap_embeds, np.float32)
    w.add("caption_logits", cap_logits, np.float32)
    w.add("caption_generated_ids", np.array(new_ids), np.int64)

    bad = {k: v for k, v in diffs.items() if v > TOL_FP32}
    for k, v in diffs.items():
        print(f"ORT fp32 vs PyTorch {k}: max rel diff {v:.3g}")
    for k, v in fp16_diffs.items():
        print(f"ORT fp16 variants vs PyTorch {k}: {v}")
    print(f"pixel_values transformers JanusImageProcessor vs reference: max abs diff {pv_hf_vs_ref:.3g}")
    print(f"decoded uint8 ORT vs PyTorch: max {u8_max_lsb} LSB; caption ids {new_ids}")
    if bad:
        raise SystemExit(f"ORT differs from PyTorch beyond {TOL_FP32}: {bad}")

    manifest = {
        "about": "Janus-Pro parity fixtures on the tiny random model in ../tiny (see README.md). "
        "Arrays are raw little-endian, C order; bool masks stored as uint8.",
        "versions": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnxruntime": onnxruntime.__version__,
            "onnx": onnx.__version__,
            "tokenizers": tokenizers.__version__,
            "numpy": np.__version__,
            "pillow": Image.__version__,
        },
        "model_dir": "../tiny",
        "dims": {
            "hidden_size": cfg.text_config.hidden_size,
            "num_layers": cfg.text_config.num_hidden_layers,
            "num_kv_heads": cfg.text_config.num_key_value_heads,
            "head_dim": cfg.text_config.head_dim,
            "vocab_size": cfg.text_config.vocab_size,
            "tokenizer_size": len(tok),
            "image_size": image_size,
            "patch_size": cfg.vision_config.patch_size,
            "image_grid": grid,
            "num_image_tokens": n_img,
            "codebook_size": cfg.vq_config.num_embeddings,
            "decoded_image_size": int(dec.shape[-1]),
        },
        "special_token_ids": ids,
        "tolerance": {"fp32_rel": TOL_FP32, "rel_definition": "max|ort-ref| / max|ref| over the array"},
        "observed_ort_fp32_rel_diff": diffs,
        "observed_ort_fp16_variants": fp16_diffs,
        "tokenizer": tok_cases,
        "t2i": {
            "prompt": T2I_PROMPT,
            "system_prompt": "",
            "text": t2i_text,
            "cfg_weight": CFG_WEIGHT,
            "cond_ids": cond,
            "uncond_ids": uncond,
            "attention_mask": "all ones for both rows, position_ids 0..T-1 (no masking of pads)",
            "batch_order": "[cond, uncond]",
            "num_tokens": n_img,
            "image_tokens": fixed.tolist(),
            "steps": "logits row i = gen_head(last hidden) after feeding image_tokens[:i]; "
            "cfg = uncond + cfg_weight*(cond-uncond)",
            "min_top2_margin_cfg_logits": float(np.min([np.sort(r)[-1] - np.sort(r)[-2] for r in g_ref])),
            "greedy_tokens": greedy,
            "greedy_note": "argmax of cfg logits each step, fed back to both rows; equals "
            "transformers generate(generation_mode='image', do_sample=False, guidance_scale=5)",
            "greedy_min_margin": cfg_margin,
        },
        "decode": {
            "tokens": fixed.tolist(),
            "grid": [grid, grid],
            "order": "raster (row-major)",
            "float_layout": "NCHW [1,3,S,S], about [-1,1]",
            "uint8_rule": "clip((x+1)/2*255, 0, 255) then truncate to uint8, HWC",
            "png": "decode_image.png",
            "ort_vs_torch_uint8_max_lsb": u8_max_lsb,
        },
        "caption": {
            "image": "caption_input.png",
            "image_size_wh": list(img.size),
            "resized_hw": resized_hw,
            "preprocess": "RGB; resize so the long side is image_size: (max(int(h/max*S),14), max(int(w/max*S),14)) "
            "PIL BICUBIC; pad centred to SxS with (127,127,127) (w>h: y=(w-h)//2); x/255; (x-0.5)/0.5; CHW",
            "pixel_values_transformers_vs_reference_max_abs": pv_hf_vs_ref,
            "question": CAPTION_QUESTION,
            "system_prompt": tiny.SYSTEM_PROMPT,
            "text": cap_text,
            "ids_before_expansion": raw_ids,
            "input_ids": expanded,
            "images_emb_mask": "all true, shape [1,1,num_image_tokens]",
            "max_new_tokens": CAPTION_MAX_NEW,
            "generated_ids": new_ids,
            "stopped_on_eos": bool(new_ids and new_ids[-1] == ids["eos"]),
            "generated_text": tok.decode(new_ids, skip_special_tokens=True),
            "min_top2_margin": float(np.min(margins)),
            "steps": "logits row i = lm_head(last hidden) before choosing generated_ids[i]",
        },
        "arrays": w.arrays,
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"wrote {args.out}/manifest.json")


if __name__ == "__main__":
    main()
