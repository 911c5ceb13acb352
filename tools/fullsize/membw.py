#!/usr/bin/env python3
"""Measure the machine's memory read bandwidth (GB/s) the way a token step reads weights:
stream a buffer far larger than the caches once, with N threads (numpy releases the GIL in
its reductions). Best of several passes.

  membw.py [--threads N] [--gib 2] [--json OUT]
"""

import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--gib", type=float, default=2.0)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    n = int(a.gib * (1 << 30) / 4)
    buf = np.ones(n, np.float32)
    chunks = np.array_split(buf, a.threads * 8)
    best = 0.0
    with ThreadPoolExecutor(a.threads) as ex:
        for _ in range(a.passes):
            t = time.perf_counter()
            list(ex.map(lambda c: float(np.add.reduce(c)), chunks))
            dt = time.perf_counter() - t
            best = max(best, buf.nbytes / dt / 1e9)
    out = {"read_gb_s": best, "threads": a.threads, "buffer_gib": a.gib}
    print(json.dumps(out))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
