#!/usr/bin/env python3
"""Reference outputs of the real diffusers SDXL pipelines on the tiny models.

Reads the PyTorch pipelines saved by make_tiny_sdxl.py (tools/.cache/sdxl/) and the
ONNX exports in testdata/sdxl/, and writes testdata/sdxl/refs/:

  manifest.json            every case with all its parameters, result files, shapes,
                           the UNet timesteps actually used, and measured ORT-vs-PyTorch
                           differences (see below).
  <case>.latents.f32       final latents (raw little-endian float32, NCHW, not divided
                           by the VAE scaling factor), i.e. output_type="latent".
  <case>.png               8-bit RGB image, i.e. output_type="np" -> round(x*255).
  <case>.<tensor>.f32/.i64 debugging intermediates for a few cases (listed per case).
  init_64.png              the init image of the image-to-image cases.

The reference is what diffusers' PyTorch pipeline computes (CPU, float32 unless the
case says otherwise, generator=torch.Generator().manual_seed(seed)).

Two ONNX checks run for every case and the script fails loudly if they are off:
 1. component parity: every text-encoder, UNet and VAE call the PyTorch pipeline made is
    replayed through onnxruntime on the case's ONNX folder with exactly the same inputs
    (cast to the dtypes the ONNX session declares); max |diff| must be <= 1e-4 (fp32;
    relative to max(1, |ref|)) or 2e-2 (fp16).
 2. ONNX-in-the-loop: the same diffusers pipeline is run again with every network replaced
    by its onnxruntime session (scheduler math stays diffusers'); the difference of its
    latents/image to the reference is recorded per case as "ort_in_loop" -- the noise
    floor a faithful ONNX Runtime port (e.g. the Go engine) can expect.

Usage: tools/.venv/bin/python tools/sdxl/make_sdxl_refs.py
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_tiny_sdxl as tiny  # noqa: E402

REFS = tiny.OUT / "refs"

FP32_TOL = 1e-4
FP16_TOL = 2e-2

SCHEDULERS = {
    # Diptych name -> (diffusers class name, overrides of the model's scheduler_config.json)
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "unipc": ("UniPCMultistepScheduler", {}),
}

CAT = "a photo of a cat"
HORSE = "An astronaut riding a green horse"


def case(name, **kw):
    c = dict(
        name=name, kind="txt2img", model="base", prompt=CAT, prompt_2=None, negative_prompt=None,
        negative_prompt_2=None, width=64, height=64, steps=10, scheduler="euler", guidance_scale=5.0,
        guidance_rescale=0.0, seed=0, strength=None, init_image=None, denoising_end=None, refiner=None,
        aesthetic_score=None, negative_aesthetic_score=None, intermediates=False,
    )
    for k in kw:
        if k not in c:
            raise KeyError(k)
    c.update(kw)
    return c


CASES = [
    case("euler_64", seed=42, intermediates=True),
    case("euler_a_64_neg", scheduler="euler_a", seed=7, prompt=HORSE, negative_prompt="blurry, low quality"),
    case("dpmpp_2m_karras_96x64", scheduler="dpmpp_2m_karras", width=96, height=64, seed=3),
    case("dpmpp_2m_64_prompt2", scheduler="dpmpp_2m", seed=4, prompt_2="an oil painting, detailed"),
    case("ddim_64", scheduler="ddim", seed=5, prompt=HORSE),
    case("heun_64", scheduler="heun", steps=6, seed=6),
    case("unipc_96x64", scheduler="unipc", width=96, height=64, seed=8, prompt=HORSE),
    case("euler_cfg1_96x64", guidance_scale=1.0, width=96, height=64, seed=9),
    case("euler_rescale_64", guidance_scale=7.0, guidance_rescale=0.7, seed=10),
    case("euler_empty_negative_64", negative_prompt="", seed=11),
    case("handoff_euler_64", kind="handoff", seed=12, prompt=HORSE, denoising_end=0.8,
         refiner=dict(model="refiner", denoising_start=0.8, steps=10, aesthetic_score=6.0,
                      negative_aesthetic_score=2.5), intermediates=True),
    case("img2img_euler_64", kind="img2img", seed=13, strength=0.5, init_image="init_64.png",
         intermediates=True),
    case("refiner_img2img_64", kind="img2img", model="refiner", seed=14, strength=0.4,
         init_image="init_64.png", prompt="a watercolor painting of a lighthouse at night",
         negative_prompt="blurry", aesthetic_score=7.0, negative_aesthetic_score=2.0),
    case("legacy_euler_64", model="base-legacy", seed=15, prompt=HORSE),
    case("fp16_euler_64", model="base-fp16", seed=16),
]


# ----------------------------------------------------------------------------- io helpers


def write_raw(name: str, arr, dtype) -> dict:
    a = np.ascontiguousarray(np.asarray(arr, dtype=dtype))
    a.astype(a.dtype.newbyteorder("<"), copy=False).tofile(REFS / name)
    return {"file": name, "dtype": np.dtype(dtype).name, "shape": list(a.shape)}


def t2n(t) -> np.ndarray:
    return t.detach().to(torch.float32).cpu().numpy() if t.is_floating_point() else t.detach().cpu().numpy()


def make_init_image(path: Path) -> None:
    """A deterministic 64x64 RGB test image: gradients, a disc and a stripe."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    r = x / 63.0
    g = y / 63.0
    b = 0.5 + 0.5 * np.sin((x + y) / 7.0)
    disc = (x - 40) ** 2 + (y - 24) ** 2 < 14 ** 2
    r[disc], g[disc], b[disc] = 0.9, 0.2, 0.1
    stripe = (y > 48) & (y < 54)
    r[stripe], g[stripe], b[stripe] = 0.1, 0.1, 0.8
    img = np.stack([r, g, b], -1)
    Image.fromarray((img * 255).round().astype(np.uint8), "RGB").save(path)


# ----------------------------------------------------------------------------- recording


class Recorder:
    """Records every network call a diffusers pipeline makes (inputs and outputs)."""

    def __init__(self):
        self.calls: list[tuple[str, dict, dict]] = []  # (component, inputs, outputs)
        self._undo = []

    def attach(self, pipe) -> None:
        for comp in ("text_encoder", "text_encoder_2"):
            te = getattr(pipe, comp, None)
            if te is not None:
                self._undo.append(te.register_forward_hook(self._te_hook(comp), with_kwargs=True))
        if pipe.unet is not None:
            self._undo.append(pipe.unet.register_forward_hook(self._unet_hook, with_kwargs=True))
        vae = pipe.vae
        dec, enc = vae.decode, vae.encode

        def decode(z, *a, **k):
            out = dec(z, *a, **k)
            sample = out[0] if isinstance(out, tuple) else out.sample
            self.calls.append(("vae_decoder", {"latent_sample": t2n(z)}, {"sample": t2n(sample)}))
            return out

        def encode(x, *a, **k):
            out = enc(x, *a, **k)
            dist = out[0] if isinstance(out, tuple) else out.latent_dist
            self.calls.append(("vae_encoder", {"sample": t2n(x)}, {"latent_parameters": t2n(dist.parameters)}))
            return out

        vae.decode, vae.encode = decode, encode
        self._undo.append(_AttrUndo(vae, ("decode", "encode")))

    def detach(self) -> None:
        for u in self._undo:
            u.remove()
        self._undo.clear()

    def _te_hook(self, comp):
        def hook(module, args, kwargs, out):
            ids = args[0] if args else kwargs["input_ids"]
            outs = {}
            if comp == "text_encoder":
                outs["last_hidden_state"] = t2n(out.last_hidden_state)
                outs["pooler_output"] = t2n(out.pooler_output)
            else:
                outs["text_embeds"] = t2n(out.text_embeds)
                outs["last_hidden_state"] = t2n(out.last_hidden_state)
            for i, h in enumerate(out.hidden_states):
                outs[f"hidden_states.{i}"] = t2n(h)
            self.calls.append((comp, {"input_ids": t2n(ids)}, outs))

        return hook

    def _unet_hook(self, module, args, kwargs, out):
        sample = args[0] if args else kwargs["sample"]
        t = args[1] if len(args) > 1 else kwargs["timestep"]
        ehs = args[2] if len(args) > 2 else kwargs["encoder_hidden_states"]
        add = kwargs["added_cond_kwargs"]
        res = out[0] if isinstance(out, tuple) else out.sample
        t = torch.as_tensor(t)
        self.calls.append(("unet", {
            "sample": t2n(sample), "timestep": t2n(t), "encoder_hidden_states": t2n(ehs),
            "text_embeds": t2n(add["text_embeds"]), "time_ids": t2n(add["time_ids"]),
        }, {"out_sample": t2n(res)}))

    def of(self, comp: str):
        return [c for c in self.calls if c[0] == comp]


class _AttrUndo:
    def __init__(self, obj, names):
        self.obj, self.names = obj, names

    def remove(self):
        for n in self.names:
            self.obj.__dict__.pop(n, None)


# ----------------------------------------------------------------------------- onnx runtime


_ORT_DT = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
           "tensor(int32)": np.int32}


class OnnxModel:
    """An onnxruntime session fed like the Optimum ORT pipelines do (cast to declared types)."""

    def __init__(self, path: Path):
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        so.log_severity_level = 3
        self.path = path
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.inputs = {i.name: i for i in self.sess.get_inputs()}
        self.out_names = [o.name for o in self.sess.get_outputs()]

    def feed(self, inputs: dict) -> dict:
        feed = {}
        for name, v in inputs.items():
            meta = self.inputs[name]
            dt = _ORT_DT[meta.type]
            v = np.asarray(v)
            if name == "timestep":
                if len(meta.shape) == 1:  # legacy int64 [steps]: one value, truncated like a torch cast
                    v = v.reshape(1)
                else:
                    v = v.reshape(())
            feed[name] = v.astype(dt)
        return feed

    def run(self, inputs: dict) -> dict:
        outs = self.sess.run(None, self.feed(inputs))
        return {n: o for n, o in zip(self.out_names, outs)}


class OnnxFolder:
    def __init__(self, variant: str):
        self.root = tiny.OUT / variant
        self._models: dict[str, OnnxModel] = {}

    def __getitem__(self, comp: str) -> OnnxModel:
        if comp not in self._models:
            self._models[comp] = OnnxModel(self.root / comp / "model.onnx")
        return self._models[comp]


def check_components(rec: Recorder, folder: OnnxFolder, tol: float, what: str) -> dict:
    """Replay every recorded call through onnxruntime; return max abs diff per component."""
    worst: dict[str, float] = {}
    for comp, inputs, ref_outs in rec.calls:
        model = folder[comp]
        got = model.run(inputs)
        for name, ref in ref_outs.items():
            if comp == "vae_encoder" and name == "latent_parameters" and "latent_sample" in got:
                continue
            if name not in got:
                raise SystemExit(f"{folder.root}/{comp}: ONNX graph has no output {name!r} (has {model.out_names})")
            g = got[name].astype(np.float32)
            if g.shape != ref.shape:
                raise SystemExit(f"{folder.root}/{comp}:{name}: shape {g.shape}, PyTorch {ref.shape}")
            d = float(np.abs(g - ref).max()) if g.size else 0.0
            scale = max(1.0, float(np.abs(ref).max()))
            if not np.isfinite(g).all() or d > tol * scale:
                raise SystemExit(f"PARITY FAILURE {what}: {folder.root.name}/{comp} output {name}: max |onnx - torch| "
                                 f"= {d:.3g} > {tol * scale:.3g}")
            worst[comp] = max(worst.get(comp, 0.0), d)
        if comp == "vae_encoder" and "latent_sample" in got:  # legacy: sampled in-graph
            mean, logvar = np.split(ref_outs["latent_parameters"], 2, axis=1)
            z = (got["latent_sample"] - mean) / np.exp(0.5 * np.clip(logvar, -30, 20))
            if z.shape != mean.shape or not (0.5 < z.std() < 1.5):
                raise SystemExit(f"{folder.root}/vae_encoder: latent_sample does not look like mean+std*N(0,1)")
            worst["vae_encoder(latent_sample, random)"] = 0.0
    return worst


# ----------------------------------------------------------------------------- onnx-in-the-loop


class OrtSwap:
    """Replace a pipeline's networks' forward/encode/decode by onnxruntime sessions."""

    def __init__(self, pipe, folder: OnnxFolder):
        from transformers.modeling_outputs import BaseModelOutputWithPooling
        from transformers.models.clip.modeling_clip import CLIPTextModelOutput

        self.undo = []
        for comp in ("text_encoder", "text_encoder_2"):
            te = getattr(pipe, comp, None)
            if te is None:
                continue
            m = folder[comp]
            nl = te.config.num_hidden_layers

            def fwd(input_ids=None, output_hidden_states=None, _m=m, _comp=comp, _nl=nl, _dt=te.dtype, **k):
                o = {n: torch.from_numpy(v.astype(np.float32)).to(_dt) for n, v in
                     _m.run({"input_ids": t2n(input_ids)}).items()}
                hs = tuple(o[f"hidden_states.{i}"] for i in range(_nl + 1))
                if _comp == "text_encoder":
                    return BaseModelOutputWithPooling(last_hidden_state=o["last_hidden_state"],
                                                      pooler_output=o["pooler_output"], hidden_states=hs)
                return CLIPTextModelOutput(text_embeds=o["text_embeds"], last_hidden_state=o["last_hidden_state"],
                                           hidden_states=hs)

            te.forward = fwd
            self.undo.append(_AttrUndo(te, ("forward",)))
        um = folder["unet"]

        def unet_fwd(sample, timestep, encoder_hidden_states=None, added_cond_kwargs=None, return_dict=True, **k):
            out = um.run({"sample": t2n(sample), "timestep": t2n(torch.as_tensor(timestep)),
                          "encoder_hidden_states": t2n(encoder_hidden_states),
                          "text_embeds": t2n(added_cond_kwargs["text_embeds"]),
                          "time_ids": t2n(added_cond_kwargs["time_ids"])})["out_sample"]
            return (torch.from_numpy(out.astype(np.float32)).to(sample.dtype),)

        pipe.unet.forward = unet_fwd
        self.undo.append(_AttrUndo(pipe.unet, ("forward",)))
        from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKLOutput
        from diffusers.models.autoencoders.vae import DecoderOutput, DiagonalGaussianDistribution

        vae = pipe.vae

        def decode(z, return_dict=True, **k):
            s = torch.from_numpy(folder["vae_decoder"].run({"latent_sample": t2n(z)})["sample"].astype(np.float32))
            s = s.to(z.dtype)
            return (s,) if not return_dict else DecoderOutput(sample=s)

        def encode(x, return_dict=True, **k):
            p = folder["vae_encoder"].run({"sample": t2n(x)})
            if "latent_parameters" not in p:
                raise RuntimeError("legacy vae_encoder samples in-graph; not usable for a deterministic reference")
            d = DiagonalGaussianDistribution(torch.from_numpy(p["latent_parameters"].astype(np.float32)).to(x.dtype))
            return (d,) if not return_dict else AutoencoderKLOutput(latent_dist=d)

        vae.decode, vae.encode = decode, encode
        self.undo.append(_AttrUndo(vae, ("decode", "encode")))

    def remove(self):
        for u in self.undo:
            u.remove()


# ----------------------------------------------------------------------------- running cases


class Models:
    def __init__(self):
        self.base, self.refiner = tiny.load_pipelines(torch.float32)
        self._fp16 = None
        self.base_sched_config = dict(self.base.scheduler.config)

    @property
    def base_fp16(self):
        if self._fp16 is None:
            self._fp16, _ = tiny.load_pipelines(torch.float16)
        return self._fp16

    def pipe_for(self, model: str, kind: str):
        from diffusers import StableDiffusionXLImg2ImgPipeline

        if model == "refiner":
            return self.refiner
        p = self.base_fp16 if model == "base-fp16" else self.base
        if kind == "img2img":
            # Same components and config (force_zeros_for_empty_prompt=true), 6 time ids.
            return StableDiffusionXLImg2ImgPipeline.from_pipe(p)
        return p


def set_scheduler(pipe, name: str, model: str) -> dict:
    """Scheduler `name` built from the model folder's scheduler/scheduler_config.json (as a port would)."""
    import diffusers

    cls_name, over = SCHEDULERS[name]
    cfg = json.loads((tiny.OUT / model / "scheduler" / "scheduler_config.json").read_text())
    pipe.scheduler = getattr(diffusers, cls_name).from_config(cfg, **over)
    resolved = {k: v for k, v in dict(pipe.scheduler.config).items() if not k.startswith("_")}
    return {"class": cls_name, "overrides": over, "resolved_config": resolved}


def pipe_kwargs(c: dict, gen, output_type: str) -> dict:
    kw = dict(prompt=c["prompt"], prompt_2=c["prompt_2"], negative_prompt=c["negative_prompt"],
              negative_prompt_2=c["negative_prompt_2"], num_inference_steps=c["steps"],
              guidance_scale=c["guidance_scale"], guidance_rescale=c["guidance_rescale"], generator=gen,
              output_type=output_type)
    if c["kind"] == "img2img":
        kw["image"] = Image.open(REFS / c["init_image"]).convert("RGB")
        kw["strength"] = c["strength"]
        if c["model"] == "refiner":
            kw.pop("prompt_2")
            kw.pop("negative_prompt_2")
            kw["aesthetic_score"] = c["aesthetic_score"]
            kw["negative_aesthetic_score"] = c["negative_aesthetic_score"]
    else:
        kw["width"], kw["height"] = c["width"], c["height"]
        if c["denoising_end"] is not None:
            kw["denoising_end"] = c["denoising_end"]
    return kw


def run_case(models: Models, c: dict, output_type: str, recorder: Recorder | None, swap_variant: str | None,
             capture: dict | None = None):
    """Run one case through diffusers; returns the pipeline output (.images)."""
    stages = [(c["model"], c["kind"])]
    if c["kind"] == "handoff":
        stages = [(c["model"], "txt2img"), (c["refiner"]["model"], "refiner")]
    gen = torch.Generator().manual_seed(c["seed"])  # one generator, carried across stages
    result = None
    for si, (model, kind) in enumerate(stages):
        pipe = models.pipe_for(model, kind)
        sched_info = set_scheduler(pipe, c["scheduler"], model)
        if si == 0:
            c.setdefault("_sched", sched_info)
        if kind == "refiner":
            r = c["refiner"]
            kw = dict(prompt=c["prompt"], negative_prompt=c["negative_prompt"], num_inference_steps=r["steps"],
                      guidance_scale=c["guidance_scale"], guidance_rescale=c["guidance_rescale"], generator=gen,
                      output_type=output_type, image=result, denoising_start=r["denoising_start"],
                      aesthetic_score=r["aesthetic_score"], negative_aesthetic_score=r["negative_aesthetic_score"])
        else:
            kw = pipe_kwargs(c, gen, "latent" if len(stages) > 1 else output_type)
        swap = OrtSwap(pipe, OnnxFolder(swap_variant if si == 0 else model)) if swap_variant else None
        if recorder is not None:
            recorder.attach(pipe)
        cap_undo = None
        if capture is not None:
            cap_undo = capture_hooks(pipe, capture, prefix="" if si == 0 else "refiner.")
            kw["callback_on_step_end"] = capture["_cb"](prefix="" if si == 0 else "refiner.")
        try:
            with torch.no_grad():
                out = pipe(**kw)
        finally:
            if recorder is not None:
                recorder.detach()
            if swap is not None:
                swap.remove()
            if cap_undo:
                cap_undo()
        if len(stages) > 1 and si == 0:
            result = out.images  # raw latents (no VAE scaling) into the refiner
            if capture is not None:
                capture["base_stage_latents"] = t2n(result)
    return out


def capture_hooks(pipe, cap: dict, prefix: str):
    """Capture prepare_latents' result (initial/noised latents) on this pipeline instance."""
    orig = pipe.prepare_latents

    def prep(*a, **k):
        r = orig(*a, **k)
        cap[prefix + "init_latents"] = t2n(r)
        return r

    pipe.prepare_latents = prep
    return lambda: pipe.__dict__.pop("prepare_latents", None)


def make_capture() -> dict:
    cap: dict = {}

    def cb_factory(prefix):
        key = prefix + "step_latents"
        cap[key] = []

        def cb(pipe, i, t, kw):
            cap[key].append(t2n(kw["latents"]))
            return kw

        return cb

    cap["_cb"] = cb_factory
    return cap


def to_uint8(img: np.ndarray) -> np.ndarray:
    # diffusers' numpy_to_pil: (images * 255).round().astype("uint8")
    return (img * 255).round().astype(np.uint8)


def versions() -> dict:
    v = {"python": platform.python_version()}
    for pkg in ("torch", "diffusers", "transformers", "optimum", "optimum-onnx", "onnx", "onnxruntime", "numpy",
                "pillow", "tokenizers"):
        try:
            v[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            v[pkg] = None
    return v


def main() -> None:
    torch.set_num_threads(2)
    if not tiny.BASE_PT.exists():
        sys.exit(f"{tiny.BASE_PT} missing: run tools/sdxl/make_tiny_sdxl.py first")
    if REFS.exists():
        shutil.rmtree(REFS)
    REFS.mkdir(parents=True)
    make_init_image(REFS / "init_64.png")
    models = Models()
    manifest_cases = []
    worst_all: dict[str, dict] = {}

    for c in CASES:
        c = dict(c)
        name = c["name"]
        fp16 = c["model"] == "base-fp16"
        tol = FP16_TOL if fp16 else FP32_TOL
        print(f"== {name}", flush=True)

        # 1. PyTorch reference, latents (+ recording of every network call).
        rec = Recorder()
        cap = make_capture() if c["intermediates"] else None
        lat = t2n(run_case(models, c, "latent", rec, None, cap).images)
        # 2. PyTorch reference, image (recorded too: the VAE decoder runs only here).
        rec_img = Recorder()
        img = run_case(models, c, "np", rec_img, None).images[0]
        if not (np.isfinite(lat).all() and np.isfinite(img).all()):
            sys.exit(f"{name}: non-finite output")
        u8 = to_uint8(img)

        # 3. Component parity on this case's ONNX folder(s).
        per_model: dict[str, Recorder] = {}
        refiner_model = c["refiner"]["model"] if c["refiner"] else None
        for r in (rec, rec_img):
            in_refiner = seen_unet = False
            for call in r.calls:
                # Hand-off: the base encodes and denoises first; the refiner stage starts with its
                # own text_encoder_2 calls after the base's UNet calls.
                if refiner_model and seen_unet and call[0] != "unet":
                    in_refiner = True
                seen_unet = seen_unet or call[0] == "unet"
                target = refiner_model if (in_refiner and refiner_model) else c["model"]
                per_model.setdefault(target, Recorder()).calls.append(call)
        diffs = {}
        for model, r in per_model.items():
            diffs[model] = check_components(r, OnnxFolder(model), tol, name)
            worst_all.setdefault(model, {})
            for k, v in diffs[model].items():
                worst_all[model][k] = max(worst_all[model].get(k, 0.0), v)

        # 4. ONNX-in-the-loop run.
        lat_o = t2n(run_case(models, c, "latent", None, c["model"]).images)
        img_o = run_case(models, c, "np", None, c["model"]).images[0]
        loop = {"latents_max_abs_diff": float(np.abs(lat_o - lat).max()),
                "image_float_max_abs_diff": float(np.abs(img_o - img).max()),
                "image_u8_max_abs_diff": int(np.abs(to_uint8(img_o).astype(int) - u8.astype(int)).max())}

        print(f"   latents std {lat.std():.3f} range [{lat.min():.3f},{lat.max():.3f}]  component max diffs "
              f"{json.dumps(diffs)}  in-loop {json.dumps(loop)}", flush=True)

        # Files.
        entry = {k: v for k, v in c.items() if not k.startswith("_") and k != "intermediates"}
        entry["scheduler_class"] = c["_sched"]["class"]
        entry["scheduler_overrides"] = c["_sched"]["overrides"]
        entry["scheduler_config"] = c["_sched"]["resolved_config"]
        entry["force_zeros_for_empty_prompt"] = c["model"] != "refiner"
        entry["requires_aesthetics_score"] = c["model"] == "refiner"
        entry["dtype"] = "float16" if fp16 else "float32"
        calls = rec.of("unet")
        if c["refiner"]:  # split the hand-off: the refiner UNet takes 5 time ids
            base_calls = [x for x in calls if x[1]["time_ids"].shape[-1] == 6]
            ref_calls = [x for x in calls if x[1]["time_ids"].shape[-1] == 5]
            entry["refiner"] = dict(c["refiner"], unet_timesteps=[float(x[1]["timestep"]) for x in ref_calls],
                                    unet_calls=len(ref_calls))
            calls = base_calls
        entry["unet_timesteps"] = [float(x[1]["timestep"]) for x in calls]
        entry["unet_calls"] = len(calls)
        entry["latents"] = write_raw(f"{name}.latents.f32", lat, np.float32)
        Image.fromarray(u8, "RGB").save(REFS / f"{name}.png")
        entry["image"] = {"file": f"{name}.png", "width": u8.shape[1], "height": u8.shape[0], "format": "RGB8"}
        entry["onnx_component_max_abs_diff"] = diffs
        entry["ort_in_loop"] = loop
        entry["rng"] = rng_notes(c)
        if c["intermediates"]:
            entry["intermediates"] = write_intermediates(name, c, rec, cap, img)
        manifest_cases.append(entry)

    manifest = {
        "format": 1,
        "generated_by": "tools/sdxl/make_sdxl_refs.py (models: tools/sdxl/make_tiny_sdxl.py)",
        "versions": versions(),
        "layout": {
            "raw_tensors": "little-endian, C order; .f32 = float32, .i64 = int64; shape in the entry",
            "latents": "final latents as output_type='latent' returns them: NCHW [1,4,H/8,W/8], NOT divided "
                       "by the VAE scaling_factor 0.13025",
            "image": "PNG RGB8 = round(clamp(vae(latents/0.13025)/2+0.5,0,1)*255) as diffusers' numpy_to_pil",
            "model": "folder under testdata/sdxl/",
        },
        "tolerances": {
            "component_parity_fp32": FP32_TOL,
            "component_parity_fp16": FP16_TOL,
            "suggested": {
                "float32 latents": "max abs diff <= 2e-3 (see each case's ort_in_loop for the measured floor)",
                "float32 image": "max abs diff <= 2 levels of 255",
                "float16 (base-fp16) latents": "max abs diff <= 5e-2; image <= 12 levels -- the reference is "
                                               "the PyTorch fp16 pipeline, whose latents are rounded to fp16 "
                                               "every step and whose VAE is upcast to fp32 (force_upcast)",
            },
        },
        "onnx_component_max_abs_diff_all_cases": worst_all,
        "token_ids": token_table(models, CASES),
        "cases": manifest_cases,
    }
    tiny.write_json(REFS / "manifest.json", manifest)
    print(f"wrote {len(manifest_cases)} cases to {REFS}")


def token_table(models: Models, cases: list[dict]) -> dict:
    """Padded ids (77) of every prompt string used, for both tokenizers, as the pipelines tokenize."""
    texts = []
    for c in cases:
        for k in ("prompt", "prompt_2", "negative_prompt", "negative_prompt_2"):
            if c[k] is not None and c[k] not in texts:
                texts.append(c[k])
    if "" not in texts:
        texts.append("")
    out = {}
    for t in texts:
        row = {}
        for name in ("tokenizer", "tokenizer_2"):
            tok = getattr(models.base, name)
            ids = tok(t, padding="max_length", max_length=tok.model_max_length, truncation=True).input_ids
            row[name] = [int(i) for i in ids]
        out[t] = row
    return out


def rng_notes(c: dict) -> str:
    s = ("torch.Generator('cpu').manual_seed(seed); draws in order: ")
    if c["kind"] == "img2img":
        s += ("1) VAE posterior sample noise randn[1,4,h,w] (latent = mean + exp(0.5*clamp(logvar,-30,20))*n, "
              "then *0.13025), 2) add_noise noise randn[1,4,h,w] at the first kept timestep")
    else:
        s += "1) initial latents randn[1,4,h,w] * init_noise_sigma"
    if c["scheduler"] == "euler_a":
        s += "; then one randn[1,4,h,w] per scheduler step (ancestral noise)"
    if c["kind"] == "handoff":
        s += "; the same generator continues into the refiner stage, which draws nothing (denoising_start => " \
             "no noise added, Euler is deterministic)"
    return s


def write_intermediates(name: str, c: dict, rec: Recorder, cap: dict, img: np.ndarray) -> dict:
    out = {}
    te1 = rec.of("text_encoder")
    te2 = rec.of("text_encoder_2")
    unet = rec.of("unet")
    if te1:
        out["input_ids"] = write_raw(f"{name}.input_ids.i64", te1[0][1]["input_ids"], np.int64)
    if te2:
        out["input_ids_2"] = write_raw(f"{name}.input_ids_2.i64", te2[0][1]["input_ids"], np.int64)
    first = unet[0][1]
    b = first["encoder_hidden_states"].shape[0]
    cond = slice(b // 2, b) if b == 2 else slice(0, b)
    out["prompt_embeds"] = write_raw(f"{name}.prompt_embeds.f32", first["encoder_hidden_states"][cond], np.float32)
    out["pooled_prompt_embeds"] = write_raw(f"{name}.pooled_prompt_embeds.f32", first["text_embeds"][cond],
                                            np.float32)
    if b == 2:
        out["negative_prompt_embeds"] = write_raw(f"{name}.negative_prompt_embeds.f32",
                                                  first["encoder_hidden_states"][:1], np.float32)
        out["negative_pooled_prompt_embeds"] = write_raw(f"{name}.negative_pooled_prompt_embeds.f32",
                                                         first["text_embeds"][:1], np.float32)
    out["add_time_ids"] = write_raw(f"{name}.add_time_ids.f32", first["time_ids"], np.float32)
    out["add_time_ids"]["note"] = "as fed to the UNet: rows [uncond; cond] when CFG is on"
    out["init_latents"] = write_raw(f"{name}.init_latents.f32", cap["init_latents"], np.float32)
    out["init_latents"]["note"] = ("prepare_latents() result: txt2img = randn*init_noise_sigma; img2img = "
                                   "0.13025*vae_sample noised at the first timestep")
    out["unet0_sample"] = write_raw(f"{name}.unet0_sample.f32", first["sample"], np.float32)
    out["unet0_sample"]["note"] = "first UNet input (CFG batch, after scale_model_input)"
    out["unet0_timestep"] = float(first["timestep"])
    out["noise_pred0"] = write_raw(f"{name}.noise_pred0.f32", unet[0][2]["out_sample"], np.float32)
    out["noise_pred0"]["note"] = "first raw UNet output out_sample (CFG batch [uncond; cond], before guidance)"
    out["step_latents"] = write_raw(f"{name}.step_latents.f32", np.stack(cap["step_latents"]), np.float32)
    out["step_latents"]["note"] = "latents after each scheduler step (callback_on_step_end), [steps,1,4,h,w]"
    if c["kind"] == "handoff":
        out["base_stage_latents"] = write_raw(f"{name}.base_stage_latents.f32", cap["base_stage_latents"],
                                              np.float32)
        out["base_stage_latents"]["note"] = "base output with denoising_end (output_type latent) = refiner input"
        rfirst = [x for x in unet if x[1]["time_ids"].shape[-1] == 5][0]
        out["refiner_add_time_ids"] = write_raw(f"{name}.refiner_add_time_ids.f32", rfirst[1]["time_ids"],
                                                np.float32)
        out["refiner_unet0_timestep"] = float(rfirst[1]["timestep"])
        out["refiner_noise_pred0"] = write_raw(f"{name}.refiner_noise_pred0.f32", rfirst[2]["out_sample"],
                                               np.float32)
        out["refiner_step_latents"] = write_raw(f"{name}.refiner_step_latents.f32",
                                                np.stack(cap["refiner.step_latents"]), np.float32)
    if c["kind"] == "img2img":
        enc = rec.of("vae_encoder")[0]
        out["vae_encoder_input"] = write_raw(f"{name}.vae_encoder_input.f32", enc[1]["sample"], np.float32)
        out["vae_encoder_input"]["note"] = "init image as NCHW float in [-1,1] (x/127.5-1)"
        out["latent_parameters"] = write_raw(f"{name}.latent_parameters.f32", enc[2]["latent_parameters"],
                                             np.float32)
    if c["kind"] == "txt2img":
        out["image_float"] = write_raw(f"{name}.image_float.f32", img, np.float32)
        out["image_float"]["note"] = "output_type='np' image before uint8 rounding, HWC in [0,1]"
    return out


if __name__ == "__main__":
    main()
