#!/usr/bin/env python3
"""Write engine/rng/testdata/torch_randn.json: reference draws from torch's CPU
generator for the Go port in engine/rng.

Run with the project venv:  tools/.venv/bin/python tools/ref_torch_randn.py

Float32 values are stored as their IEEE-754 bit patterns (8 hex digits) so the
Go test can compare bit for bit. Large tensors are stored as a SHA-256 of their
little-endian bytes plus the first/last 32 values and a strided sample.
"""
import base64
import hashlib
import json
import os
import struct
import sys

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "engine", "rng", "testdata", "torch_randn.json")

SEEDS = [0, 1, 42, 2**32 + 7, 12345678901234567890]
SHAPES = [(1,), (2,), (15,), (16,), (17,), (31,), (64,), (1, 4, 8, 8), (1, 4, 128, 128)]
FULL_LIMIT = 256  # store every value up to this many elements


def bits32(t):
    t = t.contiguous().view(-1)
    assert t.dtype == torch.float32
    return ["%08x" % (v & 0xFFFFFFFF) for v in t.view(torch.int32).tolist()]


def bits64(t):
    t = t.contiguous().view(-1)
    assert t.dtype == torch.float64
    return ["%016x" % (v & 0xFFFFFFFFFFFFFFFF) for v in t.view(torch.int64).tolist()]


def describe(t):
    flat = t.contiguous().view(-1)
    n = flat.numel()
    d = {"n": n}
    if n <= FULL_LIMIT:
        d["bits"] = bits32(flat)
    else:
        d["sha256"] = hashlib.sha256(flat.numpy().astype("<f4").tobytes()).hexdigest()
        d["first"] = bits32(flat[:32])
        d["last"] = bits32(flat[-32:])
        d["stride"] = 997
        d["strided"] = bits32(flat[::997])
        d["sum"] = float(flat.double().sum())
    return d


def main():
    cap = torch.backends.cpu.get_cpu_capability()
    if cap not in ("AVX2", "AVX512"):
        sys.exit("torch CPU capability is %s; engine/rng reproduces the AVX2/AVX512 kernels only" % cap)
    torch.set_num_threads(1)
    cases = []
    # One fresh generator per (seed, shape).
    for seed in SEEDS:
        for shape in SHAPES:
            g = torch.Generator().manual_seed(seed)
            t = torch.randn(shape, generator=g, dtype=torch.float32)
            c = {"name": "randn seed=%d shape=%s" % (seed, list(shape)), "seed": seed,
                 "calls": [dict(op="randn", shape=list(shape), **describe(t))]}
            cases.append(c)

    # Streams long enough to reach inputs where only the fused multiply-add
    # form of the sincos range reduction matches torch (seed 4, element
    # 3332031 is a sine lane whose theta is next to 3*pi/2).
    for seed, n in [(4, 3332032)]:
        g = torch.Generator().manual_seed(seed)
        t = torch.randn(n, generator=g, dtype=torch.float32)
        cases.append({"name": "long stream seed=%d n=%d" % (seed, n), "seed": seed,
                      "calls": [dict(op="randn", **describe(t))]})

    # Successive calls on one generator: the stream continues, and the cached
    # second Box-Muller value of the scalar path survives vectorised calls.
    sequences = [
        [("randn", 256), ("randn", 5), ("randn", 16)],
        [("randn", 1), ("randn", 1), ("randn", 1)],
        [("randn", 1), ("randn", 16), ("randn", 1), ("randn", 3)],
        [("randn", 3), ("randn", 17), ("randn", 2), ("randn", 33)],
        [("rand", 7), ("randn", 20), ("rand64", 3), ("randn", 1), ("rand", 2), ("randn", 1)],
        [("randn", 700), ("randn", 15), ("randn", 100)],
    ]
    for seed in [0, 42, 2**63 + 5]:
        for seq in sequences:
            g = torch.Generator().manual_seed(seed)
            calls = []
            for op, n in seq:
                if op == "randn":
                    t = torch.randn(n, generator=g, dtype=torch.float32)
                    calls.append(dict(op=op, **describe(t)))
                elif op == "rand":
                    t = torch.rand(n, generator=g, dtype=torch.float32)
                    calls.append(dict(op=op, **describe(t)))
                elif op == "rand64":
                    t = torch.rand(n, generator=g, dtype=torch.float64)
                    calls.append(dict(op=op, n=n, bits64=bits64(t)))
            cases.append({"name": "sequence seed=%d %s" % (seed, seq), "seed": seed, "calls": calls})

    # float16 / bfloat16 randn (bit patterns), followed by a float32 randn on
    # the same generator to pin down how many draws the reduced kernel used.
    reduced = []
    for seed in [0, 7]:
        for n in [1, 5, 15, 16, 17, 31, 40, 100, 257]:
            for dt, name in [(torch.float16, "float16"), (torch.bfloat16, "bfloat16")]:
                g = torch.Generator().manual_seed(seed)
                t = torch.randn(n, generator=g, dtype=dt)
                after = torch.randn(3, generator=g, dtype=torch.float32)
                reduced.append({"seed": seed, "n": n, "dtype": name,
                                "bits": ["%04x" % (v & 0xFFFF) for v in t.view(torch.int16).tolist()],
                                "after": bits32(after)})

    # Exponential draws and multinomial(probs, 1) on one generator.
    multinomial = []
    for seed, n, temp in [(0, 10, 1.0), (42, 16384, 1.0), (7, 16384, 0.3), (2**40 + 3, 3, 1.0), (1, 1000, 5.0)]:
        lg = torch.Generator().manual_seed(seed + 1000)
        logits = torch.randn(n, generator=lg, dtype=torch.float32) * 3
        probs = torch.softmax(logits / temp, dim=-1)
        g = torch.Generator().manual_seed(seed)
        draws = [int(torch.multinomial(probs, 1, generator=g).item()) for _ in range(25)]
        g2 = torch.Generator().manual_seed(seed)
        ex = torch.empty(min(n, 64), dtype=torch.float32).exponential_(1.0, generator=g2)
        multinomial.append({"seed": seed, "n": n,
                            "probs_f32le_b64": base64.b64encode(probs.numpy().astype("<f4").tobytes()).decode(), "draws": draws,
                            "exponential_n": ex.numel(), "exponential": bits32(ex)})
    doc = {
        "generated_by": "tools/ref_torch_randn.py",
        "torch_version": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cases": cases,
        "multinomial": multinomial,
        "reduced": reduced,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
