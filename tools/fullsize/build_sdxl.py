#!/usr/bin/env python3
"""Build full-size random-weight SDXL base 1.0 and refiner 1.0 and export them to ONNX.

The components are diffusers'/transformers' own classes at the published configurations
(stabilityai/stable-diffusion-xl-base-1.0 and -refiner-1.0): UNet2DConditionModel (2.57 B
parameters base, 2.3 B refiner), CLIPTextModel (CLIP ViT-L/14 text, 123 M),
CLIPTextModelWithProjection (OpenCLIP bigG text, 695 M), AutoencoderKL (84 M). Weights are
random (N(0, 1/fan_in) linears/convs as the tiny fixtures do, so activations stay unit-scale).

The layout and I/O are the Optimum (optimum-onnx) diffusers export that engine/models.Detect
recognises: <component>/model.onnx (+ model.onnx_data) with the same input/output names,
dtypes and dynamic axes as optimum's configs (text_encoder: input_ids -> last_hidden_state,
pooler_output, hidden_states.*; unet: sample, timestep (float scalar), encoder_hidden_states,
text_embeds, time_ids -> out_sample; vae_decoder: latent_sample -> sample; vae_encoder:
sample -> latent_parameters), plus tokenizers, scheduler and model_index.json.

Memory: optimum's exporter loads the whole pipeline and keeps a second in-memory copy of the
traced graph (2 x 10.3 GB for the fp32 UNet), which does not fit 24 GB. So every component is
built and exported in its own process: the text encoders and the VAE with the TorchScript
exporter (small), the UNets with torch.onnx's dynamo exporter, which traces with fake tensors
and streams the weights into model.onnx_data (peak about the model's size, ~11 GB).

  CACHE/sdxl-base/onnx/  CACHE/sdxl-refiner/onnx/      (the folders Diptych loads)

Usage: build_sdxl.py [--cache DIR] [--only base|refiner] [--tiny]   (--tiny: small dims, to test
the exporter path in a minute)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "sdxl"))

SEED = 20260113

SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler", "_diffusers_version": "0.39.0", "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False, "interpolation_type": "linear",
    "num_train_timesteps": 1000, "prediction_type": "epsilon", "sample_max_value": 1.0, "set_alpha_to_one": False,
    "skip_prk_steps": True, "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": None,
    "use_karras_sigmas": False,
}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def unet_config(kind, tiny):
    if kind == "base":
        cfg = dict(sample_size=128, in_channels=4, out_channels=4, layers_per_block=2,
                   down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                   up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                   block_out_channels=[320, 640, 1280], transformer_layers_per_block=[1, 2, 10],
                   attention_head_dim=[5, 10, 20], cross_attention_dim=2048, use_linear_projection=True,
                   addition_embed_type="text_time", addition_time_embed_dim=256,
                   projection_class_embeddings_input_dim=2816, norm_num_groups=32, flip_sin_to_cos=True,
                   freq_shift=0, act_fn="silu", upcast_attention=False)
        if tiny:
            cfg.update(block_out_channels=[32, 64, 64], transformer_layers_per_block=[1, 1, 1],
                       attention_head_dim=[2, 2, 4], cross_attention_dim=64 + 32, addition_time_embed_dim=8,
                       projection_class_embeddings_input_dim=32 + 6 * 8, layers_per_block=1)
        return cfg
    cfg = dict(sample_size=128, in_channels=4, out_channels=4, layers_per_block=2,
               down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
               up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
               block_out_channels=[384, 768, 1536, 1536], transformer_layers_per_block=4,
               attention_head_dim=[6, 12, 24, 24], cross_attention_dim=1280, use_linear_projection=True,
               addition_embed_type="text_time", addition_time_embed_dim=256,
               projection_class_embeddings_input_dim=2560, norm_num_groups=32, flip_sin_to_cos=True,
               freq_shift=0, act_fn="silu", upcast_attention=False)
    if tiny:
        cfg.update(block_out_channels=[32, 64, 64, 64], transformer_layers_per_block=1,
                   attention_head_dim=[2, 2, 4, 4], cross_attention_dim=32, addition_time_embed_dim=8,
                   projection_class_embeddings_input_dim=32 + 5 * 8, layers_per_block=1)
    return cfg


def te_configs(tiny):
    te1 = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
               num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768,
               bos_token_id=49406, eos_token_id=49407, pad_token_id=1)
    te2 = dict(vocab_size=49408, hidden_size=1280, intermediate_size=5120, num_hidden_layers=32,
               num_attention_heads=20, max_position_embeddings=77, hidden_act="gelu", projection_dim=1280,
               bos_token_id=49406, eos_token_id=49407, pad_token_id=1)
    if tiny:
        te1.update(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, projection_dim=64)
        te2.update(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, projection_dim=32)
    return te1, te2


def vae_config(tiny):
    cfg = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, sample_size=1024,
               down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
               block_out_channels=[128, 256, 512, 512], norm_num_groups=32, act_fn="silu",
               scaling_factor=0.13025, force_upcast=True)
    if tiny:
        cfg.update(block_out_channels=[32, 32, 32, 32], layers_per_block=1)
    return cfg


def randomize(model, seed):
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2 and "norm" not in name:
                p.copy_(torch.randn(p.shape, generator=g) / p[0].numel() ** 0.5)
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)


def legacy_export(mod, args, path, inames, onames, axes):
    """TorchScript export into a temporary folder, then one model.onnx (+ model.onnx_data when
    the weights pass 1 GiB, as optimum saves them)."""
    import tempfile

    import onnx
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmpd:
        tmp = os.path.join(tmpd, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(mod, args, tmp, input_names=inames, output_names=onames, dynamic_axes=axes,
                              opset_version=18, do_constant_folding=True, dynamo=False)
        m = onnx.load(tmp, load_external_data=True)
    data = path.with_name(path.name + "_data")
    big = sum(t.ByteSize() for t in m.graph.initializer) > (1 << 30)
    if big:
        onnx.save(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=data.name,
                  size_threshold=1024)
    else:
        onnx.save(m, str(path))


def build_te(kind, out, which, tiny):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    te1, te2 = te_configs(tiny)
    torch.manual_seed(SEED)
    if which == "text_encoder":
        model = CLIPTextModel(CLIPTextConfig(**te1)).eval()
        layers, heads = te1["num_hidden_layers"], ["last_hidden_state", "pooler_output"]
    else:
        model = CLIPTextModelWithProjection(CLIPTextConfig(**te2)).eval()
        layers, heads = te2["num_hidden_layers"], ["text_embeds", "last_hidden_state"]
    names = heads + [f"hidden_states.{i}" for i in range(layers + 1)]

    class Wrap(torch.nn.Module):
        """The encoder's named outputs, then every hidden state, as optimum exports them."""

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids):
            o = self.m(input_ids=input_ids, output_hidden_states=True)
            return (*(getattr(o, h) for h in heads), *o.hidden_states)
    randomize(model, SEED + (1 if which == "text_encoder" else 2))
    d = out / which
    d.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(d)
    ids = torch.zeros((1, 77), dtype=torch.int64)
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"}}
    for n in names:
        axes[n] = {0: "batch_size"} if n in ("pooler_output", "text_embeds") else {0: "batch_size", 1: "sequence_length"}
    legacy_export(Wrap(model), (ids,), d / "model.onnx", ["input_ids"], names, axes)


def build_vae(kind, out, which, tiny):
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(SEED)
    vae = AutoencoderKL(**vae_config(tiny)).eval()
    randomize(vae, SEED + 3)
    d = out / which
    d.mkdir(parents=True, exist_ok=True)
    vae.save_config(d)
    if which == "vae_decoder":
        class Wrap(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, latent_sample):
                return self.m.decode(latent_sample).sample

        legacy_export(Wrap(vae), (torch.randn(1, 4, 16, 16),), d / "model.onnx", ["latent_sample"], ["sample"],
                      {"latent_sample": {0: "batch_size", 2: "latent_height", 3: "latent_width"},
                       "sample": {0: "batch_size", 2: "height", 3: "width"}})
    else:
        class Wrap(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, sample):
                h = self.m.encoder(sample)
                return self.m.quant_conv(h)

        legacy_export(Wrap(vae), (torch.randn(1, 3, 128, 128),), d / "model.onnx", ["sample"], ["latent_parameters"],
                      {"sample": {0: "batch_size", 2: "sample_height", 3: "sample_width"},
                       "latent_parameters": {0: "batch_size", 2: "latent_height", 3: "latent_width"}})


def build_unet(kind, out, tiny):
    import torch
    from diffusers import UNet2DConditionModel

    cfg = unet_config(kind, tiny)
    torch.manual_seed(SEED)
    log(f"init {kind} UNet")
    unet = UNet2DConditionModel(**cfg).eval()
    randomize(unet, SEED + (4 if kind == "base" else 5))
    n = sum(p.numel() for p in unet.parameters())
    log(f"{kind} UNet: {n / 1e9:.3f} B parameters")
    d = out / "unet"
    d.mkdir(parents=True, exist_ok=True)
    unet.save_config(d)
    ntime = 6 if kind == "base" else 5
    te_width = cfg["projection_class_embeddings_input_dim"] - ntime * cfg["addition_time_embed_dim"]

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids):
            return self.m(sample, timestep, encoder_hidden_states,
                          added_cond_kwargs={"text_embeds": text_embeds, "time_ids": time_ids}, return_dict=False)[0]

    args = (torch.randn(2, 4, 64, 64), torch.tensor(999.0), torch.randn(2, 77, cfg["cross_attention_dim"]),
            torch.randn(2, te_width), torch.randn(2, ntime))
    path = d / "model.onnx"
    B = torch.export.Dim("batch_size", min=1, max=64)
    H = torch.export.Dim("height_8", min=4, max=32)
    W = torch.export.Dim("width_8", min=4, max=32)
    shapes = {"sample": {0: B, 2: 8 * H, 3: 8 * W}, "timestep": None,
              "encoder_hidden_states": {0: B}, "text_embeds": {0: B}, "time_ids": {0: B}}
    log(f"export {kind} unet (dynamo, external data)")
    with torch.no_grad():
        prog = torch.onnx.export(Wrap(unet).eval(), args, dynamo=True, input_names=["sample", "timestep",
                                 "encoder_hidden_states", "text_embeds", "time_ids"], output_names=["out_sample"],
                                 dynamic_shapes=shapes, opset_version=18, external_data=True, optimize=True)
    del unet
    prog.save(str(path), external_data=True)
    # optimum names the external file model.onnx_data; dynamo's default is model.onnx.data.
    fix_external_name(path)


def fix_external_name(path):
    alt = path.with_name(path.name + ".data")
    if alt.exists():
        import onnx
        from onnx.external_data_helper import ExternalDataInfo  # noqa: F401

        m = onnx.load(str(path), load_external_data=False)
        for t in m.graph.initializer:
            for e in t.external_data:
                if e.key == "location" and e.value == alt.name:
                    e.value = path.name + "_data"
        alt.rename(path.with_name(path.name + "_data"))
        onnx.save(m, str(path))


def side_files(kind, out):
    import make_tiny_sdxl as tiny

    (out / "scheduler").mkdir(parents=True, exist_ok=True)
    (out / "scheduler" / "scheduler_config.json").write_text(json.dumps(SCHEDULER, indent=2) + "\n")
    if kind == "base":
        tiny.write_tokenizer_dir(out / "tokenizer", "<|endoftext|>")
    tiny.write_tokenizer_dir(out / "tokenizer_2", "!")
    index = {"_class_name": "StableDiffusionXLPipeline" if kind == "base" else "StableDiffusionXLImg2ImgPipeline",
             "_diffusers_version": "0.39.0", "force_zeros_for_empty_prompt": kind == "base",
             "scheduler": ["diffusers", "EulerDiscreteScheduler"],
             "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
             "tokenizer_2": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"]}
    if kind == "base":
        index["text_encoder"] = ["transformers", "CLIPTextModel"]
        index["tokenizer"] = ["transformers", "CLIPTokenizer"]
    else:
        index["requires_aesthetics_score"] = True
    (out / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache")
    ap.add_argument("--only", choices=["base", "refiner"])
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # KIND:COMPONENT in a child process
    a = ap.parse_args(argv)
    cache = Path(a.cache or os.environ.get("DIPTYCH_FULLSIZE_CACHE") or os.path.expanduser("~/.cache/diptych-fullsize"))
    suffix = "-tiny" if a.tiny else ""
    if a.one:
        kind, comp = a.one.split(":")
        out = cache / f"sdxl-{kind}{suffix}" / "onnx"
        if comp == "unet":
            build_unet(kind, out, a.tiny)
        elif comp.startswith("text_encoder"):
            build_te(kind, out, comp, a.tiny)
        else:
            build_vae(kind, out, comp, a.tiny)
        return
    stamps = cache / "stamps"
    stamps.mkdir(parents=True, exist_ok=True)
    for kind in (["base", "refiner"] if not a.only else [a.only]):
        out = cache / f"sdxl-{kind}{suffix}" / "onnx"
        comps = ["text_encoder", "text_encoder_2", "vae_decoder", "vae_encoder", "unet"]
        if kind == "refiner":
            comps.remove("text_encoder")
        for comp in comps:
            st = stamps / f"sdxl-{kind}{suffix}.{comp}"
            if st.exists():
                continue
            log(f"build {kind} {comp}")
            if (out / comp).exists():
                shutil.rmtree(out / comp)
            subprocess.check_call([sys.executable, __file__, "--cache", str(cache), "--one", f"{kind}:{comp}"]
                                  + (["--tiny"] if a.tiny else []))
            st.write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))
        side_files(kind, out)
        log(f"done: {out}")


if __name__ == "__main__":
    main()
