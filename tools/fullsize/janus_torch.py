#!/usr/bin/env python3
"""The PyTorch reference for the full-size Janus-Pro bench: transformers' Janus classes on the CPU.

  janus_torch.py CKPT --prompt P --seed S --threads N --json OUT
      transformers' JanusForConditionalGeneration.generate(generation_mode="image"), fp32,
      sampling with CFG 5, temperature 1, no top-k/top-p (torch.manual_seed(seed)); per-token
      times from a logits processor that records when it is called.
  janus_torch.py CKPT --parity OUT.npz [--prompt-tokens 600] [--steps 8]
      teacher-forced gen_head logits of the reference CFG loop (generation_inference.py) after a
      prefill of ~600 positions and 8 image-token steps, for janus_ort.py --teacher.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch


def t2i_text(prompt):
    return "<|User|>: " + prompt.strip() + "\n\n<|Assistant|>:<begin_of_image>"


class Clock:
    """A logits processor that only records when each image token's scores are ready."""

    def __init__(self):
        self.t = []

    def __call__(self, input_ids, scores):
        self.t.append(time.perf_counter())
        return scores


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--prompt", default="a photograph of an astronaut riding a horse")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cfg", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json")
    ap.add_argument("--parity")
    ap.add_argument("--prompt-tokens", type=int, default=600)
    ap.add_argument("--steps", type=int, default=8)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    from tokenizers import Tokenizer
    from transformers import JanusForConditionalGeneration, LogitsProcessorList

    t0 = time.perf_counter()
    model = JanusForConditionalGeneration.from_pretrained(args.ckpt, torch_dtype=torch.float32).eval()
    tok = Tokenizer.from_file(os.path.join(args.ckpt, "tokenizer.json"))
    load = time.perf_counter() - t0
    gc = model.generation_config
    pad, bos, boi = gc.pad_token_id, gc.bos_token_id, gc.generation_kwargs["boi_token_id"]

    if args.parity:
        text = tok.encode(("a photograph of an astronaut riding a horse on the moon, " * 80)).ids
        body = [t for t in text if t not in (bos,)][: args.prompt_tokens - 2]
        cond = [bos] + body + [boi]
        uncond = [bos] + [pad] * len(body) + [boi]
        ids = torch.tensor([cond, uncond])
        g = torch.Generator().manual_seed(1)
        teach = torch.randint(0, model.config.vq_config.num_embeddings, (args.steps,), generator=g)
        lm = model.model.language_model
        logits = []
        with torch.no_grad():
            embeds = model.get_input_embeddings()(ids)
            past = None
            for i in range(args.steps + 1):
                out = lm(inputs_embeds=embeds, use_cache=True, past_key_values=past)
                past = out.past_key_values
                logits.append(model.model.generation_head(out.last_hidden_state[:, -1, :]).numpy())
                if i == args.steps:
                    break
                t = teach[i : i + 1]
                embeds = model.prepare_embeddings_for_image_generation(torch.stack([t, t]))
        np.savez(args.parity, input_ids=ids.numpy(), tokens=teach.numpy(), logits=np.stack(logits))
        print(json.dumps({"parity_reference": args.parity, "positions": [len(cond), len(cond) + args.steps]}))
        return

    cond = tok.encode(t2i_text(args.prompt)).ids
    G = model.model.vision_model.config.num_image_tokens  # transformers always samples all of them
    clock = Clock()
    torch.manual_seed(args.seed)
    t1 = time.perf_counter()
    with torch.no_grad():
        out = model.generate(
            inputs=torch.tensor([cond]),
            attention_mask=torch.ones(1, len(cond), dtype=torch.int64),
            generation_mode="image",
            do_sample=True,
            guidance_scale=args.cfg,
            temperature=1.0,
            top_k=0,
            top_p=1.0,
            logits_processor=LogitsProcessorList([clock]),
        )
    gen_s = time.perf_counter() - t1
    tokens = out[0].tolist()
    t2 = time.perf_counter()
    decode = 0.0
    img = None
    if G == 576:
        with torch.no_grad():
            img = model.decode_image_tokens(out)
        decode = time.perf_counter() - t2
    steps = [b - a for a, b in zip(clock.t, clock.t[1:])]
    res = {"runner": "pytorch", "threads": args.threads, "load_s": load, "prompt_tokens": len(cond),
           "prefill_s": None, "first_token_s": clock.t[0] - t1 if clock.t else None,
           "per_token_median_s": statistics.median(steps) if steps else None, "tokens_s": gen_s,
           "decode_s": decode, "total_s": time.perf_counter() - t0, "tokens": tokens, "step_s": steps}
    print(json.dumps({k: v for k, v in res.items() if k not in ("tokens", "step_s")}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f)
    if img is not None and args.json:
        # The figures are written first: the picture is a convenience.
        from PIL import Image

        a = img[0].float().numpy()
        if a.shape[0] == 3:  # CHW -> HWC (transformers returns HWC in some versions)
            a = a.transpose(1, 2, 0)
        px = np.clip((a + 1) / 2 * 255, 0, 255).astype(np.uint8)
        Image.fromarray(px).save(os.path.splitext(args.json)[0] + ".png")

if __name__ == "__main__":
    sys.exit(main())
