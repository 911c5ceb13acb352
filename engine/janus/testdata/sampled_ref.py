"""Reference for sampled text-to-image tokens on the tiny Janus fixture.

Runs the graphs of ../../../testdata/janus/tiny with onnxruntime and samples
exactly as deepseek-ai/Janus generation_inference.py does on the CPU
(parallel_size 1): CFG mix, torch.softmax(logits / temperature),
torch.multinomial(probs, 1) with torch.manual_seed(seed). Writes
sampled_ref.json. Run: tools/.venv/bin/python engine/janus/testdata/sampled_ref.py
"""
import json
import os

import numpy as np
import onnxruntime as ort
import torch

here = os.path.dirname(os.path.abspath(__file__))
tiny = os.path.join(here, "..", "..", "..", "testdata", "janus", "tiny", "onnx")
manifest = json.load(open(os.path.join(here, "..", "..", "..", "testdata", "janus", "refs", "manifest.json")))
cond, uncond = manifest["t2i"]["cond_ids"], manifest["t2i"]["uncond_ids"]
G = manifest["dims"]["num_image_tokens"]
L = manifest["dims"]["num_layers"]
H, hd = manifest["dims"]["num_kv_heads"], manifest["dims"]["head_dim"]
S = manifest["dims"]["image_size"]


def sess(name):
    return ort.InferenceSession(os.path.join(tiny, name + ".onnx"), providers=["CPUExecutionProvider"])


embed, lm, head, gen_embed = sess("prepare_inputs_embeds"), sess("language_model"), sess("gen_head"), sess("gen_img_embeds")


def run(seed, temperature, cfg=5.0):
    torch.manual_seed(seed)
    ids = np.array([cond, uncond], dtype=np.int64)
    T = ids.shape[1]
    x = embed.run(None, {"input_ids": ids, "pixel_values": np.zeros((0, 0, 3, S, S), np.float32),
                         "images_seq_mask": np.zeros((2, T), bool), "images_emb_mask": np.zeros((2, 0, G), bool)})[0]
    past = {f"past_key_values.{i}.{kv}": np.zeros((2, H, 0, hd), np.float32) for i in range(L) for kv in ("key", "value")}
    pos, tokens = 0, []
    for step in range(G):
        n = x.shape[1]
        outs = lm.run(None, {"inputs_embeds": x, "attention_mask": np.ones((2, pos + n), np.int64),
                             "position_ids": np.tile(np.arange(pos, pos + n, dtype=np.int64), (2, 1)), **past})
        names = [o.name for o in lm.get_outputs()]
        res = dict(zip(names, outs))
        past = {k.replace("present", "past_key_values"): v for k, v in res.items() if k.startswith("present")}
        pos += n
        logits = torch.from_numpy(head.run(None, {"hidden_states": res["hidden_states"][:, -1:, :]})[0][:, -1, :])
        mixed = logits[1::2] + cfg * (logits[0::2] - logits[1::2])
        probs = torch.softmax(mixed / temperature, dim=-1)
        tok = torch.multinomial(probs, num_samples=1)
        tokens.append(int(tok[0, 0]))
        x = gen_embed.run(None, {"image_ids": np.array([[tokens[-1]], [tokens[-1]]], np.int64)})[0]
    return tokens


cases = [{"seed": s, "temperature": t, "tokens": run(s, t)} for s, t in [(7, 1.0), (8, 1.0), (42, 0.5)]]
out = {"about": __doc__.strip().splitlines()[0], "torch": torch.__version__, "onnxruntime": ort.__version__,
       "prompt": manifest["t2i"]["prompt"], "cfg": 5.0, "cases": cases}
json.dump(out, open(os.path.join(here, "sampled_ref.json"), "w"), indent=1)
print(json.dumps(cases))
