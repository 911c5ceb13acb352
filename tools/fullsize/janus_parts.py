#!/usr/bin/env python3
"""The onnxruntime-python peer's image token split into its three graph runs.

Times gen_head, gen_img_embeds and the one-position language_model step of the peer
(janus_ort.Janus: same graphs, session options and IOBinding of the KV cache) after a real
prompt's prefill, and prints the median of each. engine/janus's BenchmarkFullSizeTokenParts
times the same split in Diptych; run the two back to back, several times, alternating, since a
shared 2-core machine drifts by ±15 % between runs.

  janus_parts.py MODEL_DIR [--combo fp16] [--threads 2] [--tokens 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import janus_ort  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--combo", default="fp32", choices=sorted(janus_ort.COMBOS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--prompt", default="a photograph of an astronaut riding a horse")
    args = ap.parse_args(argv)
    if args.tokens < 1:
        ap.error(f"--tokens {args.tokens}: want at least 1")

    from tokenizers import Tokenizer

    m = janus_ort.Janus(args.model_dir, args.combo, args.threads)
    tok = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    m.lm_start(2)
    hidden = m.lm_step(m.embed(janus_ort.cfg_ids(tok, args.prompt)))
    parts = {"gen_head": [], "gen_img_embeds": [], "lm_step": [], "token": []}
    for _ in range(args.tokens):
        t0 = time.perf_counter()
        logits = m.run("gen_head", {"hidden_states": hidden[:, None, :]})[0][:, 0, :]
        t1 = time.perf_counter()
        t = int(np.argmax(logits[0]))
        emb = m.run("gen_img_embeds", {"image_ids": np.array([[t], [t]], np.int64)})[0]
        t2 = time.perf_counter()
        hidden = m.lm_step(emb)
        t3 = time.perf_counter()
        for k, v in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
            parts[k].append(v)
    print(" ".join(f"{statistics.median(v) * 1e3:.2f} ms/{k}" for k, v in parts.items()))


if __name__ == "__main__":
    sys.exit(main())
