#!/usr/bin/env python3
"""Record diffusers scheduler reference data for engine/scheduler's Go tests.

Writes engine/scheduler/testdata/diffusers_ref.json with, for every scheduler name of the Go
package and a set of configs / step counts: timesteps, sigmas, init_noise_sigma and the final
sample of a short deterministic denoising loop (a fake model computed from the sample, no torch
RNG). Stochastic schedulers (euler_a, sde-dpmsolver++) get their noise from a deterministic
integer formula (see `fake_noise`), patched in place of diffusers' `randn_tensor`, so the Go test
can feed the same numbers through its NoiseSource.

It also records the pipeline-level index arithmetic of StableDiffusionXL(Img2Img)Pipeline:
`get_timesteps(strength)` / `denoising_start` (begin index) and `denoising_end` (step count),
and diffusers' own upstream full-loop tests (sum/mean of |x|) recomputed with this diffusers.

The JSON is written by Python's json module, so the one -inf config value appears as the
bare token -Infinity (engine/scheduler.ParseConfig accepts it, as diffusers' configs may too).

Run: tools/.venv/bin/python tools/ref_schedulers.py
"""

import json
import os
import sys
import types

import numpy as np
import torch

import diffusers
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    HeunDiscreteScheduler,
    UniPCMultistepScheduler,
)
from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl_img2img import (
    StableDiffusionXLImg2ImgPipeline,
)
from diffusers.schedulers import (
    scheduling_ddim,
    scheduling_dpmsolver_multistep,
    scheduling_euler_ancestral_discrete,
)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine", "scheduler", "testdata",
                   "diffusers_ref.json")

# SDXL base scheduler/scheduler_config.json (stabilityai/stable-diffusion-xl-base-1.0).
SDXL = {
    "_class_name": "EulerDiscreteScheduler",
    "_diffusers_version": "0.19.0.dev0",
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

CLASSES = {
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "heun": (HeunDiscreteScheduler, {}),
    "ddim": (DDIMScheduler, {}),
    "dpmpp_2m": (DPMSolverMultistepScheduler, {}),
    "dpmpp_2m_karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
    "unipc": (UniPCMultistepScheduler, {}),
}

N_ELEM = 64  # latent of shape (1, 4, 4, 4)
SHAPE = (1, 4, 4, 4)


def f32s(a):
    """float32 values as the shortest decimal strings that round-trip (parsed back as float32)."""
    a = np.asarray(a, dtype=np.float32).reshape(-1)
    return [float(str(v)) for v in a]


def f64s(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def int_formula(i, k, mul_i, mul_k, add, mod, off, div):
    # ((i*mul_i + k*mul_k + add) % mod - off) / div, evaluated exactly, then one float32 division.
    num = np.float32(((i * mul_i + k * mul_k + add) % mod) - off)
    return num / np.float32(div)


def fake_noise(k, n):
    """Noise for the k-th randn call of a run (k = 0, 1, ...): exact float32 formula."""
    i = np.arange(n, dtype=np.int64)
    return int_formula(i, k, 7919, 104729, 17, 2001, 1000, 400).astype(np.float32)


X0 = int_formula(np.arange(N_ELEM), 0, 37, 0, 5, 101, 50, 25).astype(np.float32)  # in [-2, 2]
C = int_formula(np.arange(N_ELEM), 0, 13, 0, 3, 29, 14, 7).astype(np.float32)  # in [-2, 2]
IMG_NOISE = fake_noise(1000, N_ELEM)

MODEL_DOC = ("eps = (x * r) * 0.5 + c * 0.1 with r = tf / (tf + 1), tf = float32(timestep); "
             "all float32 ops, x is the scale_model_input output")


def fake_model(x, t):
    tf = torch.as_tensor(t).to(torch.float32)
    r = tf / (tf + 1)
    c = torch.from_numpy(C).reshape(SHAPE)
    return (x * r) * 0.5 + c * 0.1


class NoiseFeed:
    def __init__(self):
        self.k = 0

    def __call__(self, shape, generator=None, device=None, dtype=None, layout=None):
        n = int(np.prod(shape))
        out = torch.from_numpy(fake_noise(self.k, n)).reshape(shape)
        self.k += 1
        return out.to(dtype=dtype or torch.float32)


_ORIG_RANDN = (scheduling_euler_ancestral_discrete.randn_tensor, scheduling_dpmsolver_multistep.randn_tensor,
               scheduling_ddim.randn_tensor)


def unpatch_noise():
    (scheduling_euler_ancestral_discrete.randn_tensor, scheduling_dpmsolver_multistep.randn_tensor,
     scheduling_ddim.randn_tensor) = _ORIG_RANDN


def patch_noise():
    feed = NoiseFeed()
    scheduling_euler_ancestral_discrete.randn_tensor = feed
    scheduling_dpmsolver_multistep.randn_tensor = feed
    scheduling_ddim.randn_tensor = feed
    return feed


def make(name, cfg):
    cls, over = CLASSES[name]
    c = dict(cfg)
    c.update(over)
    return cls.from_config(c)


def sched_info(s):
    sig = getattr(s, "sigmas", None)
    ins = s.init_noise_sigma
    ins = float(ins.item() if torch.is_tensor(ins) else ins)
    return {
        "timesteps": f64s(s.timesteps.to(torch.float64).numpy()),
        "sigmas": f32s(sig.numpy()) if sig is not None else [],
        "init_noise_sigma": float(str(np.float32(ins))),
    }


def denoise(s, x, timesteps, **step_kwargs):
    for t in timesteps:
        xin = s.scale_model_input(x, t)
        eps = fake_model(xin, t)
        x = s.step(eps, t, x, **step_kwargs).prev_sample
    return x


def fake_pipe(s):
    return types.SimpleNamespace(scheduler=s)


def case(name, cfg_name, cfg, steps, mode="txt2img", frac=None, eta=None):
    """One reference run; a configuration diffusers rejects is recorded with "error"."""
    try:
        return _case(name, cfg_name, cfg, steps, mode, frac, eta)
    except (NotImplementedError, ValueError, AttributeError) as e:
        return {"name": name, "config": cfg_name, "steps": steps, "mode": mode, "error": str(e)}


def _case(name, cfg_name, cfg, steps, mode, frac, eta):
    s = make(name, cfg)
    s.set_timesteps(steps)
    rec = {"name": name, "config": cfg_name, "steps": steps, "mode": mode}
    kw = {}
    if eta is not None:
        rec["eta"] = eta
        kw["eta"] = eta
    rec.update(sched_info(s))
    patch_noise()
    x0 = torch.from_numpy(X0.copy()).reshape(SHAPE)
    if mode == "txt2img":
        if hasattr(s, "set_begin_index"):
            s.set_begin_index(0)
        ins = s.init_noise_sigma
        x = x0 * ins
        x = denoise(s, x, s.timesteps, **kw)
        rec["begin"], rec["end"] = 0, len(s.timesteps)
    elif mode == "img2img":
        ts, n = StableDiffusionXLImg2ImgPipeline.get_timesteps(fake_pipe(s), steps, frac, "cpu", None)
        begin = len(s.timesteps) - len(ts)
        x = s.add_noise(x0, torch.from_numpy(IMG_NOISE.copy()).reshape(SHAPE), ts[:1])
        x = denoise(s, x, ts)
        rec.update(strength=frac, begin=begin, end=len(s.timesteps), pipeline_steps=n)
    elif mode == "refiner":
        ts, n = StableDiffusionXLImg2ImgPipeline.get_timesteps(fake_pipe(s), steps, 0.3, "cpu", frac)
        begin = len(s.timesteps) - len(ts)
        x = denoise(s, x0, ts)  # denoising_start: no noise added, latents used as-is
        rec.update(denoising_start=frac, begin=begin, end=len(s.timesteps), pipeline_steps=n)
    elif mode == "base_end":
        # StableDiffusionXLPipeline.__call__ "8.1 Apply denoising_end"
        cutoff = int(round(s.config.num_train_timesteps - (frac * s.config.num_train_timesteps)))
        n = len(list(filter(lambda ts: ts >= cutoff, s.timesteps)))
        if hasattr(s, "set_begin_index"):
            s.set_begin_index(0)
        x = x0 * s.init_noise_sigma
        x = denoise(s, x, s.timesteps[:n])
        rec.update(denoising_end=frac, begin=0, end=n)
    else:
        raise ValueError(mode)
    rec["final"] = f32s(x.numpy())
    return rec


TORCH_SHAPE = (1, 4, 8, 8)


def torch_rng_case(name, cfg_name, cfg, steps, seed, eta=None):
    """Pipeline-like run with diffusers' own torch RNG: latents = randn(shape, generator) *
    init_noise_sigma, then every stochastic step draws from the same generator."""
    s = make(name, cfg)
    s.set_timesteps(steps)
    unpatch_noise()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(TORCH_SHAPE, generator=g, dtype=torch.float32) * s.init_noise_sigma
    c = torch.from_numpy(np.resize(C, int(np.prod(TORCH_SHAPE)))).reshape(TORCH_SHAPE)
    kw = {"generator": g}
    if eta is not None:
        kw["eta"] = eta
    if hasattr(s, "set_begin_index"):
        s.set_begin_index(0)
    for t in s.timesteps:
        xin = s.scale_model_input(x, t)
        tf = torch.as_tensor(t).to(torch.float32)
        eps = (xin * (tf / (tf + 1))) * 0.5 + c * 0.1
        x = s.step(eps, t, x, **kw).prev_sample
    rec = {"name": name, "config": cfg_name, "steps": steps, "mode": "torch_rng", "seed": seed,
           "shape": list(TORCH_SHAPE), "c_tiled": True}
    if eta is not None:
        rec["eta"] = eta
    rec.update(sched_info(s))
    rec["final"] = f32s(x.numpy())
    return rec


# ---- diffusers' upstream full-loop tests (tests/schedulers/*), recomputed here ----

def dummy_sample_deter(rev=False):
    n = 4 * 3 * 8 * 8
    s = torch.arange(n)
    if rev:
        s = s.flip(-1)
    s = s.reshape(3, 8, 8, 4) / n
    return s.permute(3, 0, 1, 2)


def dummy_model(x, t):
    t = torch.as_tensor(t).reshape(-1, 1, 1, 1).to(dtype=x.dtype)
    return x * t / (t + 1)


EULER_T = {"num_train_timesteps": 1100, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}
DDIM_T = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
          "clip_sample": True}
DPM_T = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
         "solver_order": 2, "prediction_type": "epsilon", "thresholding": False, "sample_max_value": 1.0,
         "algorithm_type": "dpmsolver++", "solver_type": "midpoint", "lower_order_final": False,
         "final_sigmas_type": "sigma_min"}
UNIPC_T = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
           "solver_order": 2, "solver_type": "bh2", "final_sigmas_type": "sigma_min"}


def upstream(name, cls, cfg, style, t_start=None):
    """style 've': x = scale(x); x = step(model(x), x) (Euler/Heun tests); 'vp': x = step(model(x), x)."""
    s = cls(**cfg)
    s.set_timesteps(10)
    x = dummy_sample_deter()
    if style == "ve":
        x = x * s.init_noise_sigma
    ts = s.timesteps
    if t_start is not None:
        ts = s.timesteps[t_start * s.order:]
        x = s.add_noise(x, dummy_sample_deter(rev=True), ts[:1])
    for t in ts:
        if style == "ve":
            x = s.scale_model_input(x, t)
        x = s.step(dummy_model(x, t), t, x).prev_sample
    return {"name": name, "class": cls.__name__, "config": cfg, "style": style, "t_start": t_start,
            "sum": float(x.abs().sum().item()), "mean": float(x.abs().mean().item())}


def upstream_all():
    out = []
    out.append(upstream("euler", EulerDiscreteScheduler, EULER_T, "ve"))
    out.append(upstream("euler_karras", EulerDiscreteScheduler, {**EULER_T, "use_karras_sigmas": True}, "ve"))
    out.append(upstream("euler_vpred", EulerDiscreteScheduler, {**EULER_T, "prediction_type": "v_prediction"}, "ve"))
    out.append(upstream("euler_noise", EulerDiscreteScheduler, EULER_T, "ve", t_start=8))
    out.append(upstream("heun", HeunDiscreteScheduler, EULER_T, "ve"))
    out.append(upstream("heun_karras", HeunDiscreteScheduler, {**EULER_T, "use_karras_sigmas": True}, "ve"))
    out.append(upstream("heun_vpred", HeunDiscreteScheduler, {**EULER_T, "prediction_type": "v_prediction"}, "ve"))
    out.append(upstream("heun_noise", HeunDiscreteScheduler, EULER_T, "ve", t_start=8))
    out.append(upstream("ddim", DDIMScheduler, DDIM_T, "vp"))
    out.append(upstream("ddim_vpred", DDIMScheduler, {**DDIM_T, "prediction_type": "v_prediction"}, "vp"))
    out.append(upstream("ddim_b001_one", DDIMScheduler, {**DDIM_T, "beta_start": 0.01, "set_alpha_to_one": True}, "vp"))
    out.append(upstream("ddim_b001", DDIMScheduler, {**DDIM_T, "beta_start": 0.01, "set_alpha_to_one": False}, "vp"))
    out.append(upstream("ddim_noise", DDIMScheduler, DDIM_T, "vp", t_start=8))
    out.append(upstream("dpm", DPMSolverMultistepScheduler, DPM_T, "vp"))
    out.append(upstream("dpm_noise", DPMSolverMultistepScheduler, DPM_T, "vp", t_start=5))
    out.append(upstream("dpm_vpred", DPMSolverMultistepScheduler, {**DPM_T, "prediction_type": "v_prediction"}, "vp"))
    out.append(upstream("dpm_vpred_karras", DPMSolverMultistepScheduler,
                        {**DPM_T, "prediction_type": "v_prediction", "use_karras_sigmas": True}, "vp"))
    out.append(upstream("unipc", UniPCMultistepScheduler, UNIPC_T, "vp"))
    out.append(upstream("unipc_karras", UniPCMultistepScheduler, {**UNIPC_T, "use_karras_sigmas": True}, "vp"))
    out.append(upstream("unipc_vpred", UniPCMultistepScheduler, {**UNIPC_T, "prediction_type": "v_prediction"}, "vp"))
    out.append(upstream("unipc_vpred_karras", UniPCMultistepScheduler,
                        {**UNIPC_T, "prediction_type": "v_prediction", "use_karras_sigmas": True}, "vp"))
    out.append(upstream("unipc_noise", UniPCMultistepScheduler, UNIPC_T, "vp", t_start=8))
    return out


def main():
    configs = {
        "sdxl": SDXL,
        "sdxl_vpred": {**SDXL, "prediction_type": "v_prediction"},
        "sdxl_trailing": {**SDXL, "timestep_spacing": "trailing"},
        "sdxl_linspace": {**SDXL, "timestep_spacing": "linspace"},
        "sdxl_karras": {**SDXL, "use_karras_sigmas": True},
        "sdxl_sde": {**SDXL, "algorithm_type": "sde-dpmsolver++"},
        "sdxl_order3": {**SDXL, "solver_order": 3},
        "sdxl_sigma_min": {**SDXL, "final_sigmas_type": "sigma_min", "lower_order_final": False},
        "sd15_linear": {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02,
                        "beta_schedule": "linear", "clip_sample": True, "set_alpha_to_one": True},
        "cosine_sample": {**SDXL, "beta_schedule": "squaredcos_cap_v2", "prediction_type": "sample"},
        "zsnr_vpred_trailing": {**SDXL, "rescale_betas_zero_snr": True, "prediction_type": "v_prediction",
                                "timestep_spacing": "trailing"},
        "karras_minmax": {**SDXL, "use_karras_sigmas": True, "sigma_min": 0.1, "sigma_max": 10.0},
        "exponential": {**SDXL, "use_exponential_sigmas": True},
        "euler_extras": {**SDXL, "final_sigmas_type": "sigma_min", "timestep_type": "continuous",
                         "prediction_type": "v_prediction"},
        "dpm_clipped": {**SDXL, "lambda_min_clipped": -5.1, "timestep_spacing": "linspace"},
        "dpm_explicit": {**SDXL, "lambda_min_clipped": float("-inf"), "euler_at_final": True, "solver_type": "heun"},
        "dpm_v1": {**SDXL, "algorithm_type": "dpmsolver", "final_sigmas_type": "sigma_min"},
        "dpm_v1_order3_heun": {**SDXL, "algorithm_type": "dpmsolver", "final_sigmas_type": "sigma_min",
                               "solver_order": 3, "solver_type": "heun"},
        "dpm_sde_v1": {**SDXL, "algorithm_type": "sde-dpmsolver", "final_sigmas_type": "sigma_min"},
        "dpm_sde_heun": {**SDXL, "algorithm_type": "sde-dpmsolver++", "solver_type": "heun", "solver_order": 3},
        "unipc_bh1": {**SDXL, "solver_type": "bh1", "predict_x0": False, "disable_corrector": [1],
                      "solver_order": 3, "lower_order_final": False, "final_sigmas_type": "sigma_min"},
        "heun_exp_clip": {**SDXL, "beta_schedule": "exp", "clip_sample": True, "clip_sample_range": 0.8},
        "ddim_trailing_vpred": {**SDXL, "timestep_spacing": "trailing", "prediction_type": "v_prediction"},
    }
    names = list(CLASSES)
    cases = []
    for name in names:
        for steps in (1, 4, 25):
            cases.append(case(name, "sdxl", configs["sdxl"], steps))
        for cfg_name in ("sdxl_vpred", "sdxl_trailing", "sdxl_linspace", "sd15_linear"):
            for steps in (4, 25):
                cases.append(case(name, cfg_name, configs[cfg_name], steps))
        cases.append(case(name, "cosine_sample", configs["cosine_sample"], 7))
        cases.append(case(name, "sdxl", configs["sdxl"], 10, "img2img", 0.6))
        cases.append(case(name, "sdxl", configs["sdxl"], 10, "img2img", 0.35))
        cases.append(case(name, "sdxl", configs["sdxl"], 10, "refiner", 0.8))
        cases.append(case(name, "sdxl", configs["sdxl"], 9, "refiner", 0.7))
        cases.append(case(name, "sdxl", configs["sdxl"], 10, "base_end", 0.8))
    for name in ("euler", "heun", "unipc"):
        for steps in (4, 25):
            cases.append(case(name, "sdxl_karras", configs["sdxl_karras"], steps))
    for name in ("euler", "euler_a", "ddim", "dpmpp_2m", "unipc"):
        cases.append(case(name, "zsnr_vpred_trailing", configs["zsnr_vpred_trailing"], 6))
    for cfg_name in ("sdxl_sde", "sdxl_order3", "sdxl_sigma_min"):
        for steps in (4, 25):
            cases.append(case("dpmpp_2m", cfg_name, configs[cfg_name], steps))
            cases.append(case("dpmpp_2m_karras", cfg_name, configs[cfg_name], steps))
    for cfg_name in ("sdxl_order3", "sdxl_sigma_min"):
        for steps in (4, 25):
            cases.append(case("unipc", cfg_name, configs[cfg_name], steps))

    for name in ("euler", "heun", "dpmpp_2m", "unipc"):
        cases.append(case(name, "karras_minmax", configs["karras_minmax"], 6))
    for name in ("euler", "heun", "dpmpp_2m"):
        cases.append(case(name, "exponential", configs["exponential"], 6))
    cases.append(case("euler", "euler_extras", configs["euler_extras"], 6))
    for cfg_name in ("dpm_clipped", "dpm_explicit", "dpm_v1", "dpm_v1_order3_heun", "dpm_sde_v1", "dpm_sde_heun"):
        for steps in (5, 16):
            cases.append(case("dpmpp_2m", cfg_name, configs[cfg_name], steps))
    for steps in (5, 16):
        cases.append(case("unipc", "unipc_bh1", configs["unipc_bh1"], steps))
    cases.append(case("heun", "heun_exp_clip", configs["heun_exp_clip"], 6))
    cases.append(case("ddim", "ddim_trailing_vpred", configs["ddim_trailing_vpred"], 6))
    cases.append(case("ddim", "sdxl", configs["sdxl"], 8, eta=0.7))
    cases.append(case("ddim", "sd15_linear", configs["sd15_linear"], 8, eta=1.0))

    cases.append(torch_rng_case("euler_a", "sdxl", configs["sdxl"], 10, 1234))
    cases.append(torch_rng_case("dpmpp_2m", "sdxl_sde", configs["sdxl_sde"], 10, 42))
    cases.append(torch_rng_case("ddim", "sdxl", configs["sdxl"], 10, 7, eta=0.6))
    cases.append(torch_rng_case("euler", "sdxl", configs["sdxl"], 10, 0))

    ref = {
        "diffusers_version": diffusers.__version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "generator": "tools/ref_schedulers.py",
        "shape": list(SHAPE),
        "x0": f32s(X0),
        "c": f32s(C),
        "img_noise": f32s(IMG_NOISE),
        "model": MODEL_DOC,
        "noise": "k-th randn call (k from 0), element i: float32(((i*7919 + k*104729 + 17) % 2001) - 1000) / 400; "
                 "img_noise is k = 1000",
        "configs": configs,
        "cases": cases,
        "upstream": upstream_all(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(cases)} cases, {os.path.getsize(OUT)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
