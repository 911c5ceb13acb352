#!/usr/bin/env python3
"""Build tiny random SDXL base + refiner pipelines and export them to ONNX.

Everything is built with diffusers'/transformers' own classes and fixed torch
seeds, then exported with Optimum (optimum-onnx, the *current* interface
generation). From that export three more variants are derived:

  testdata/sdxl/base/         optimum-onnx fp32 export of the tiny base pipeline.
                              unet re-saved with external data (model.onnx +
                              model.onnx_data), like the official stabilityai export
                              (which also has text_encoder_2 external; here it stays
                              inline so that refiner/ and base-legacy/ can share it).
  testdata/sdxl/refiner/      optimum-onnx fp32 export of the tiny refiner
                              (StableDiffusionXLImg2ImgPipeline, no text_encoder).
  testdata/sdxl/base-legacy/  the OLD interface generation (optimum <= 1.22, the
                              official base export): int32 text_encoder input_ids,
                              int64 [steps] unet timestep, vae_encoder output
                              `latent_sample` sampled inside the graph. Only one
                              optimum can be installed next to torch here, so this
                              variant is made by ONNX graph surgery on base/
                              (see make_legacy()).
  testdata/sdxl/base-fp16/    optimum-onnx export with dtype="fp16" (what
                              `optimum-cli export onnx --dtype fp16` does: the whole
                              pipeline, vae_decoder included, is loaded in float16,
                              so every float input/output is float16).

The PyTorch pipelines (needed by make_sdxl_refs.py) are saved under
tools/.cache/sdxl/ (git-ignored); they are rebuilt bit-identically from the
seeds. The tokenizer folders' vocab.json/merges.txt are replaced by relative
symlinks to the single copy in testdata/sdxl/clip/, and their
tokenizer_config.json/special_tokens_map.json are rewritten in the layout of the
published stabilityai repos (pad "<|endoftext|>" for tokenizer/, "!" for
tokenizer_2/), except in base-fp16/ which keeps what transformers'
save_pretrained writes (the newer layout), so both layouts are exercised.

Usage: tools/.venv/bin/python tools/sdxl/make_tiny_sdxl.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "testdata" / "sdxl"
CACHE = REPO / "tools" / ".cache" / "sdxl"
CLIP_SRC = Path(os.environ.get("CLIP_TOKENIZER_DIR", "/work/shared/testdata/clip-tokenizer"))

BASE_PT = CACHE / "base-pt"
REFINER_PT = CACHE / "refiner-pt"

# Tiny dimensions. Real SDXL values in comments.
TE1_HIDDEN = 8  # 768
TE2_HIDDEN = 10  # 1280
TE2_PROJ = 10  # 1280 (text_embeds width)
TIME_EMBED = 8  # addition_time_embed_dim 256
CLIP_LAYERS = 2  # 12 / 32 -> penultimate = hidden_states.1

# SDXL base scheduler/scheduler_config.json (stabilityai/stable-diffusion-xl-base-1.0).
SDXL_SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "sample_max_value": 1.0,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "trained_betas": None,
    "use_karras_sigmas": False,
}

_ADDED = {"lstrip": False, "normalized": True, "rstrip": False, "single_word": False}


def _tok(content: str, typed: bool) -> dict:
    d = {"__type": "AddedToken"} if typed else {}
    d["content"] = content
    d.update(_ADDED)
    return d


def tokenizer_special_files(pad: str) -> tuple[dict, dict]:
    """tokenizer_config.json and special_tokens_map.json as in the stabilityai SDXL repos."""
    cfg = {
        "add_prefix_space": False,
        "bos_token": _tok("<|startoftext|>", True),
        "clean_up_tokenization_spaces": True,
        "do_lower_case": True,
        "eos_token": _tok("<|endoftext|>", True),
        "errors": "replace",
        "model_max_length": 77,
        "pad_token": pad,
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": _tok("<|endoftext|>", True),
    }
    stm = {
        "bos_token": _tok("<|startoftext|>", False),
        "eos_token": _tok("<|endoftext|>", False),
        "pad_token": pad,
        "unk_token": _tok("<|endoftext|>", False),
    }
    return cfg, stm


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_tokenizer_dir(dst: Path, pad: str) -> None:
    """A real-layout tokenizer folder using the real CLIP vocab/merges (copied)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(CLIP_SRC / name, dst / name)
    cfg, stm = tokenizer_special_files(pad)
    write_json(dst / "tokenizer_config.json", cfg)
    write_json(dst / "special_tokens_map.json", stm)


def seeded(seed: int):
    torch.manual_seed(seed)
    np.random.seed(seed)


@torch.no_grad()
def scale_(module: torch.nn.Module, factor: float) -> None:
    for p in module.parameters():
        p.mul_(factor)


def build_text_encoders():
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    common = dict(
        vocab_size=49408,
        max_position_embeddings=77,
        num_hidden_layers=CLIP_LAYERS,
        num_attention_heads=2,
        layer_norm_eps=1e-5,
        # legacy ids as in the real configs (eos_token_id 2 -> pooled = argmax(input_ids))
        bos_token_id=0,
        eos_token_id=2,
        pad_token_id=1,
        initializer_factor=1.0,
        initializer_range=0.02,
    )
    c1 = CLIPTextConfig(hidden_size=TE1_HIDDEN, intermediate_size=4 * TE1_HIDDEN, hidden_act="quick_gelu",
                        projection_dim=TE1_HIDDEN, **common)
    c2 = CLIPTextConfig(hidden_size=TE2_HIDDEN, intermediate_size=4 * TE2_HIDDEN, hidden_act="gelu",
                        projection_dim=TE2_PROJ, **common)
    seeded(1)
    te1 = CLIPTextModel(c1).eval()
    seeded(2)
    te2 = CLIPTextModelWithProjection(c2).eval()
    # CLIP's init gives token embeddings of std 0.02; scale them up so the prompt
    # actually matters relative to the position embeddings.
    with torch.no_grad():
        for te in (te1, te2):
            te.text_model.embeddings.token_embedding.weight.mul_(25.0)
            te.text_model.embeddings.position_embedding.weight.mul_(10.0)
    return te1, te2


def build_unet(refiner: bool):
    from diffusers import UNet2DConditionModel

    if refiner:
        # Real refiner: 4 blocks, [Down, CrossAttnDown, CrossAttnDown, Down], cross dim 1280, 5 time ids.
        kw = dict(
            block_out_channels=(8, 16, 16, 16),
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(2, 4, 4, 4),
            transformer_layers_per_block=(1, 1, 1, 1),
            cross_attention_dim=TE2_HIDDEN,
            projection_class_embeddings_input_dim=TE2_PROJ + 5 * TIME_EMBED,
        )
        seeded(4)
    else:
        # Real base: 3 blocks, [Down, CrossAttnDown, CrossAttnDown], transformer layers [1,2,10].
        kw = dict(
            block_out_channels=(8, 16, 16),
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(2, 4, 4),
            transformer_layers_per_block=(1, 1, 2),
            cross_attention_dim=TE1_HIDDEN + TE2_HIDDEN,
            projection_class_embeddings_input_dim=TE2_PROJ + 6 * TIME_EMBED,
        )
        seeded(3)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        norm_num_groups=4,
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=TIME_EMBED,
        flip_sin_to_cos=True,
        freq_shift=0,
        upcast_attention=False,
        **kw,
    ).eval()
    return unet


def build_vae():
    from diffusers import AutoencoderKL

    seeded(5)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 16, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=64,
        scaling_factor=0.13025,
        force_upcast=True,
    ).eval()
    return vae


def build_pipelines():
    """Return (base, refiner) PyTorch pipelines, fp32, CPU."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline
    from transformers import CLIPTokenizer

    tokdir = CACHE / "tok-src"
    write_tokenizer_dir(tokdir / "tokenizer", "<|endoftext|>")
    write_tokenizer_dir(tokdir / "tokenizer_2", "!")
    tok1 = CLIPTokenizer.from_pretrained(tokdir / "tokenizer")
    tok2 = CLIPTokenizer.from_pretrained(tokdir / "tokenizer_2")
    assert tok1.pad_token_id == 49407 and tok2.pad_token_id == 0, (tok1.pad_token_id, tok2.pad_token_id)

    te1, te2 = build_text_encoders()
    unet = build_unet(refiner=False)
    unet_r = build_unet(refiner=True)
    vae = build_vae()
    sched = EulerDiscreteScheduler.from_config(SDXL_SCHEDULER)

    base = StableDiffusionXLPipeline(
        vae=vae, text_encoder=te1, text_encoder_2=te2, tokenizer=tok1, tokenizer_2=tok2,
        unet=unet, scheduler=sched, force_zeros_for_empty_prompt=True, add_watermarker=False,
    )
    refiner = StableDiffusionXLImg2ImgPipeline(
        vae=vae, text_encoder=None, text_encoder_2=te2, tokenizer=None, tokenizer_2=tok2,
        unet=unet_r, scheduler=EulerDiscreteScheduler.from_config(SDXL_SCHEDULER),
        requires_aesthetics_score=True, force_zeros_for_empty_prompt=False, add_watermarker=False,
    )
    train_denoiser(base, ntime=6, seed=10)
    train_denoiser(refiner, ntime=5, seed=11)
    return base, refiner


TRAIN_PROMPTS = ["a photo of a cat", "an astronaut riding a green horse", "a red car", "blurry", "",
                 "a watercolor painting of a lighthouse at night"]


def train_denoiser(pipe, ntime: int, seed: int, steps: int = 400) -> None:
    """Briefly train the random UNet on the usual epsilon objective.

    A purely random UNet predicts "noise" uncorrelated with the actual noise, so
    sampling never removes it (final latents keep std ~7). A few hundred Adam steps
    on smooth synthetic latents (std ~1) make every scheduler converge to latents of
    realistic magnitude, so the references exercise meaningful numbers (and CFG /
    guidance_rescale change the result visibly). Deterministic on a given machine.
    """
    import torch.nn.functional as F

    unet = pipe.unet
    with torch.no_grad():
        enc = [pipe.encode_prompt(p, device="cpu", do_classifier_free_guidance=False) for p in TRAIN_PROMPTS]
    pe = torch.cat([e[0] for e in enc])
    pp = torch.cat([e[2] for e in enc])
    ac = pipe.scheduler.alphas_cumprod
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(unet.parameters(), lr=2e-3)
    unet.train()
    for it in range(steps):
        b = 16
        h, w = (8, 8) if it % 2 == 0 else (8, 12)
        low = torch.randn(b, 4, 2, w // 4, generator=g)
        x0 = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False) + 0.2 * torch.randn(
            b, 4, h, w, generator=g)
        idx = torch.randint(0, len(pe), (b,), generator=g)
        e, p = pe[idx].clone(), pp[idx].clone()
        drop = torch.rand(b, generator=g) < 0.15  # unconditional (zeros) for CFG
        e[drop] = 0
        p[drop] = 0
        if ntime == 6:
            tid = torch.tensor([[h * 8, w * 8, 0, 0, h * 8, w * 8]] * b, dtype=torch.float32)
        else:
            tid = torch.tensor([[h * 8, w * 8, 0, 0, 6.0]] * b, dtype=torch.float32)
            tid[drop, 4] = 2.5
        t = torch.randint(0, 1000, (b,), generator=g)
        n = torch.randn(b, 4, h, w, generator=g)
        a = ac[t].view(b, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * n
        out = unet(xt, t, encoder_hidden_states=e, added_cond_kwargs={"text_embeds": p, "time_ids": tid}).sample
        loss = F.mse_loss(out, n)
        opt.zero_grad()
        loss.backward()
        opt.step()
    unet.eval()
    unet.zero_grad(set_to_none=True)
    print(f"trained {type(pipe).__name__} unet: final loss {loss.item():.4f}")


def load_pipelines(dtype=torch.float32):
    """Load the saved PyTorch pipelines (as make_sdxl_refs.py does)."""
    from diffusers import StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline

    base = StableDiffusionXLPipeline.from_pretrained(BASE_PT, torch_dtype=dtype, add_watermarker=False)
    refiner = StableDiffusionXLImg2ImgPipeline.from_pretrained(REFINER_PT, torch_dtype=dtype, add_watermarker=False)
    return base, refiner


# ----------------------------------------------------------------------------- export


def export(src: Path, dst: Path, task: str, dtype: str = "fp32", validate: bool = True) -> None:
    from optimum.exporters.onnx import main_export

    if dst.exists():
        shutil.rmtree(dst)
    main_export(str(src), output=str(dst), task=task, dtype=dtype, device="cpu", library_name="diffusers",
                do_validation=validate)


def save_model(m: onnx.ModelProto, model_path: Path, external: bool) -> None:
    """Save a graph inline, or with its weights in model.onnx_data (as Optimum does for >2 GB graphs)."""
    data = model_path.with_name(model_path.name + "_data")
    if data.exists() or data.is_symlink():
        data.unlink()
    if external:
        onnx.save(m, str(model_path), save_as_external_data=True, all_tensors_to_one_file=True,
                  location=data.name, size_threshold=1024, convert_attribute=False)
        data.chmod(0o644)
    else:
        onnx.save(m, str(model_path))


def to_external_data(model_path: Path) -> None:
    save_model(onnx.load(str(model_path)), model_path, external=True)


def _same_tokenizer_file(a: Path, b: Path) -> bool:
    """Same vocab (as a dict) / same merges (ignoring the header line and trailing newlines)."""
    if a.suffix == ".json":
        return json.loads(a.read_text(encoding="utf-8")) == json.loads(b.read_text(encoding="utf-8"))
    la = a.read_text(encoding="utf-8").strip("\n").split("\n")[1:]
    lb = b.read_text(encoding="utf-8").strip("\n").split("\n")[1:]
    return la == lb


def link_clip_files(variant: Path) -> None:
    """Replace vocab.json/merges.txt by relative symlinks into testdata/sdxl/clip/."""
    for tok in ("tokenizer", "tokenizer_2"):
        d = variant / tok
        if not d.is_dir():
            continue
        for name in ("vocab.json", "merges.txt"):
            p = d / name
            if p.exists() or p.is_symlink():
                if not _same_tokenizer_file(p, OUT / "clip" / name):
                    sys.exit(f"{p}: exporter wrote a vocabulary that differs from the real CLIP file")
                p.unlink()
            p.symlink_to(os.path.relpath(OUT / "clip" / name, d))


def real_layout_tokenizer_json(variant: Path) -> None:
    for tok, pad in (("tokenizer", "<|endoftext|>"), ("tokenizer_2", "!")):
        d = variant / tok
        if not d.is_dir():
            continue
        cfg, stm = tokenizer_special_files(pad)
        write_json(d / "tokenizer_config.json", cfg)
        write_json(d / "special_tokens_map.json", stm)
        added = d / "added_tokens.json"  # not present in the published repos
        if added.exists():
            added.unlink()


# ----------------------------------------------------------------------------- legacy surgery


def _replace_input(graph: onnx.GraphProto, name: str, new_input: onnx.ValueInfoProto, nodes: list,
                   internal: str) -> None:
    """Rename graph input `name` to internal tensor `internal` fed by `nodes` from `new_input`."""
    for n in graph.node:
        for i, x in enumerate(n.input):
            if x == name:
                n.input[i] = internal
    idx = [i for i, v in enumerate(graph.input) if v.name == name][0]
    graph.input.remove(graph.input[idx])
    graph.input.insert(idx, new_input)
    for k, n in enumerate(nodes):
        graph.node.insert(k, n)


def _load(path: Path) -> tuple[onnx.ModelProto, bool]:
    return onnx.load(str(path)), path.with_name(path.name + "_data").exists()


def legacy_text_encoder(path: Path) -> None:
    """optimum <= 1.23: text_encoder input_ids is int32; the graph casts to int64 itself."""
    m, ext = _load(path)
    g = m.graph
    old = [v for v in g.input if v.name == "input_ids"][0]
    new = helper.make_tensor_value_info("input_ids", TensorProto.INT32,
                                        [d.dim_param or d.dim_value for d in old.type.tensor_type.shape.dim])
    cast = helper.make_node("Cast", ["input_ids"], ["input_ids_int64"], to=TensorProto.INT64,
                            name="legacy/Cast_input_ids")
    _replace_input(g, "input_ids", new, [cast], "input_ids_int64")
    onnx.checker.check_model(m)
    save_model(m, path, ext)


def legacy_unet(path: Path) -> None:
    """optimum <= 1.23: unet timestep is int64 with shape [steps] (fed as [1])."""
    m, ext = _load(path)
    g = m.graph
    old = [v for v in g.input if v.name == "timestep"][0]
    float_type = old.type.tensor_type.elem_type
    new = helper.make_tensor_value_info("timestep", TensorProto.INT64, ["steps"])
    shape = helper.make_tensor("legacy/scalar_shape", TensorProto.INT64, [0], [])
    g.initializer.append(shape)
    cast = helper.make_node("Cast", ["timestep"], ["timestep_float_1d"], to=float_type, name="legacy/Cast_timestep")
    resh = helper.make_node("Reshape", ["timestep_float_1d", "legacy/scalar_shape"], ["timestep_float"],
                            name="legacy/Reshape_timestep")
    _replace_input(g, "timestep", new, [cast, resh], "timestep_float")
    onnx.checker.check_model(m)
    save_model(m, path, ext)


def legacy_vae_encoder(path: Path) -> None:
    """optimum <= 1.22: vae_encoder returns `latent_sample` = mean + std * N(0,1) drawn in the graph."""
    m, ext = _load(path)
    g = m.graph
    out = [v for v in g.output if v.name == "latent_parameters"][0]
    elem = out.type.tensor_type.elem_type
    dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    g.output.remove(out)
    four = helper.make_tensor("legacy/split_sizes", TensorProto.INT64, [2], [4, 4])
    g.initializer.append(four)
    lo = helper.make_tensor("legacy/logvar_min", elem, [], [-30.0])
    hi = helper.make_tensor("legacy/logvar_max", elem, [], [20.0])
    half = helper.make_tensor("legacy/half", elem, [], [0.5])
    g.initializer.extend([lo, hi, half])
    g.node.extend([
        helper.make_node("Split", ["latent_parameters", "legacy/split_sizes"], ["legacy/mean", "legacy/logvar"],
                         axis=1, name="legacy/Split"),
        helper.make_node("Clip", ["legacy/logvar", "legacy/logvar_min", "legacy/logvar_max"], ["legacy/logvar_c"],
                         name="legacy/Clip"),
        helper.make_node("Mul", ["legacy/logvar_c", "legacy/half"], ["legacy/half_logvar"], name="legacy/Mul_half"),
        helper.make_node("Exp", ["legacy/half_logvar"], ["legacy/std"], name="legacy/Exp"),
        helper.make_node("RandomNormalLike", ["legacy/mean"], ["legacy/noise"], dtype=elem,
                         name="legacy/RandomNormalLike"),
        helper.make_node("Mul", ["legacy/std", "legacy/noise"], ["legacy/scaled_noise"], name="legacy/Mul_noise"),
        helper.make_node("Add", ["legacy/mean", "legacy/scaled_noise"], ["latent_sample"], name="legacy/Add"),
    ])
    dims[1] = 4
    g.output.append(helper.make_tensor_value_info("latent_sample", elem, dims))
    onnx.checker.check_model(m)
    save_model(m, path, ext)


def make_legacy(base: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    # Same files as base/ (unet with external data, like the official stabilityai
    # export, which is this interface generation); three graphs modified.
    shutil.copytree(base, dst, symlinks=True)
    legacy_text_encoder(dst / "text_encoder" / "model.onnx")
    legacy_unet(dst / "unet" / "model.onnx")
    legacy_vae_encoder(dst / "vae_encoder" / "model.onnx")


# ----------------------------------------------------------------------------- main


def dedupe(variants: list[str], min_size: int = 32 * 1024) -> None:
    """Replace files byte-identical to one in an earlier variant by a relative symlink to it.

    E.g. refiner/text_encoder_2 and refiner/vae_* are the very same graphs as in base/
    (the refiner shares text_encoder_2 and the VAE with the base, as in diffusers' docs),
    and base-legacy/ shares text_encoder_2 and vae_decoder. Graphs with external data
    are never shared: ONNX Runtime refuses external data whose resolved (symlink-followed)
    path leaves the model's directory.
    """
    import hashlib

    seen: dict[str, Path] = {}
    for v in variants:
        for p in sorted((OUT / v).rglob("*")):
            if p.is_symlink() or not p.is_file() or p.stat().st_size < min_size:
                continue
            if p.name.endswith(".onnx_data") or p.with_name(p.name + "_data").exists():
                continue
            h = hashlib.sha256(p.read_bytes()).hexdigest()
            if h in seen:
                p.unlink()
                p.symlink_to(os.path.relpath(seen[h], p.parent))
            else:
                seen[h] = p


def describe(variant: Path) -> dict:
    """Names/dtypes/shapes of every graph's inputs and outputs (for the README/report)."""
    res = {}
    for p in sorted(variant.glob("*/model.onnx")):
        m = onnx.load(str(p), load_external_data=False)

        def vi(v):
            t = v.type.tensor_type
            return [v.name, TensorProto.DataType.Name(t.elem_type).lower(),
                    [d.dim_param or d.dim_value for d in t.shape.dim]]

        res[p.parent.name] = {"inputs": [vi(v) for v in m.graph.input],
                              "outputs": [vi(v) for v in m.graph.output],
                              "external_data": (p.parent / "model.onnx_data").exists()}
    return res


def main() -> None:
    post_only = "--post-only" in sys.argv[1:]  # redo only the file post-processing (development aid)
    torch.set_num_threads(2)
    CACHE.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "clip").mkdir(exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(CLIP_SRC / name, OUT / "clip" / name)

    if not post_only:
        base, refiner = build_pipelines()
        for p, d in ((base, BASE_PT), (refiner, REFINER_PT)):
            if d.exists():
                shutil.rmtree(d)
            p.save_pretrained(d, safe_serialization=True)

        export(BASE_PT, OUT / "base", "text-to-image")
        export(REFINER_PT, OUT / "refiner", "image-to-image")
        # Optimum's own validation of an fp16 export on CPU crashes inside its error
        # reporting (IndexError); make_sdxl_refs.py validates every graph instead.
        export(BASE_PT, OUT / "base-fp16", "text-to-image", dtype="fp16", validate=False)

    # The official export stores the unet as model.onnx + model.onnx_data.
    for v in ("base", "refiner"):
        to_external_data(OUT / v / "unet" / "model.onnx")
    for v in ("base", "refiner"):
        real_layout_tokenizer_json(OUT / v)
    make_legacy(OUT / "base", OUT / "base-legacy")
    for v in ("base", "refiner", "base-fp16", "base-legacy"):
        link_clip_files(OUT / v)
    dedupe(["base", "refiner", "base-legacy", "base-fp16"])

    io = {v: describe(OUT / v) for v in ("base", "base-legacy", "base-fp16", "refiner")}
    write_json(OUT / "onnx_io.json", io)
    print(json.dumps(io, indent=1))


if __name__ == "__main__":
    main()
