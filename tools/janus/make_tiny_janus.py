#!/usr/bin/env python3
"""Build a tiny random Janus-Pro checkpoint (transformers format) and export it.

The checkpoint uses transformers' own Janus classes (JanusForConditionalGeneration with a
Llama text model, the SigLIP-style understanding encoder + aligner, the VQ-16 decoder and the
generation embed/aligner/head) with tiny dimensions but the same structure as Janus-Pro:

* text: LLaMA, 2 layers, hidden 64, 4 heads x 16 (no GQA), vocab 448 (> tokenizer size, like
  102400 > ~100.6k upstream; the unused lm_head rows are zeroed),
* understanding: image 64x64, patch 16 -> 4x4 = 16 image tokens (576 = 24x24 upstream),
* generation: VQ codebook 128 x 8, 5-level decoder (16x upsampling): 4x4 tokens -> 64x64 RGB.

The tokenizer is a byte-level BPE (DeepSeek-style Split/Digits/ByteLevel pre-tokenizer)
trained with `tokenizers` on a small corpus, followed by the real Janus-Pro special tokens.

Usage: make_tiny_janus.py [--ckpt DIR] [--out DIR]
  --ckpt  where the transformers checkpoint goes (default tools/janus/tiny_ckpt, git-ignored)
  --out   where the ONNX layout goes (default testdata/janus/tiny)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SEED = 20250127

# Real Janus-Pro special-token strings (U+FF5C fullwidth bar, U+2581 lower one-eighth block).
BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
PAD = "<｜▁pad▁｜>"
BOI = "<begin_of_image>"
EOI = "<end_of_image>"
IMAGE = "<image_placeholder>"
ADDITIONAL = [
    "<image_placeholder>",
    "<patch_placeholder>",
    "<|ref|>",
    "<|/ref|>",
    "<|det|>",
    "<|/det|>",
    "<|grounding|>",
    "<|User|>",
    "<|Assistant|>",
]
# Added-token order (ids follow the BPE vocabulary, like 100000+ upstream).
SPECIAL_ORDER = [BOS, EOS, PAD, BOI, EOI] + ADDITIONAL

TEXT_VOCAB = 448  # embedding rows / lm_head columns (> tokenizer size on purpose)
BPE_VOCAB = 400  # 256 byte symbols + 144 merges
NUM_IMAGE_TOKENS = 16  # 4 x 4
IMAGE_SIZE = 64
PATCH = 16

SYSTEM_PROMPT = (
    "You are a helpful language and vision assistant. You are able to understand the visual "
    "content that the user provides, and assist the user with a variety of tasks using natural "
    "language."
)

CORPUS = [
    SYSTEM_PROMPT,
    "A red fox sitting in the snow at sunset, digital art.",
    "A photo of a cat on a wooden table next to a cup of coffee.",
    "A watercolor painting of mountains and a lake in the morning.",
    "Describe this image in detail.",
    "What is shown in the picture? Please answer briefly.",
    "The image shows a small house with a green door and two windows.",
    "There are 3 apples and 12 oranges on the plate.",
    "Convert the formula into latex code.",
    "a cute robot reading a book, highly detailed, 4k",
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! How are you today? I am fine, thank you.",
    "User: Assistant: image of the sky, blue and white clouds.",
    "This is a test of the tokenizer with numbers 0 1 2 3 4 5 6 7 8 9 and symbols ,.;:!?()[]{}",
    "Le café est très bon. 日本語のテキスト。中文文本。",
]

# DeepSeek-LLM style pre-tokenizer (shortened letter class; same Split/Digits/ByteLevel machinery).
PRE_TOKENIZER = {
    "type": "Sequence",
    "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "[\r\n]"}, "behavior": "Isolated", "invert": False},
        {
            "type": "Split",
            "pattern": {"Regex": "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-Ֆ]+"},
            "behavior": "Isolated",
            "invert": False,
        },
        {
            "type": "Split",
            "pattern": {"Regex": "\\s?[!-/:-~！-／：-～‘-‟　-。]+"},
            "behavior": "Isolated",
            "invert": False,
        },
        {"type": "Split", "pattern": {"Regex": "\\s+$"}, "behavior": "Isolated", "invert": False},
        {"type": "Split", "pattern": {"Regex": "[一-龥ࠀ-一가-퟿]+"}, "behavior": "Isolated", "invert": False},
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
    ],
}

# Jinja chat templates selected by name (Transformers.js style). BOS is not part of the text:
# the tokenizer's post-processor prepends it. Both render exactly the reference SFT strings
# (checked by make_janus_refs.py).
DEFAULT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set system = messages[0]['content'] -%}{%- set msgs = messages[1:] -%}"
    "{%- else -%}"
    "{%- set system = '" + SYSTEM_PROMPT + "' -%}{%- set msgs = messages -%}"
    "{%- endif -%}"
    "{%- if system|length > 0 -%}{{ system + '\\n\\n' }}{%- endif -%}"
    "{%- for m in msgs -%}"
    "{%- if m['content']|trim|length > 0 -%}{{ m['role'] + ': ' + m['content']|trim }}"
    "{%- if not loop.last -%}{%- if loop.index0 % 2 == 0 -%}{{ '\\n\\n' }}{%- else -%}{{ eos_token }}{%- endif -%}{%- endif -%}"
    "{%- else -%}{{ m['role'] + ':' }}{%- endif -%}"
    "{%- endfor -%}"
)
T2I_TEMPLATE = (
    "{%- for m in messages -%}"
    "{%- if m['content']|trim|length > 0 -%}{{ m['role'] + ': ' + m['content']|trim }}"
    "{%- if not loop.last -%}{%- if loop.index0 % 2 == 0 -%}{{ '\\n\\n' }}{%- else -%}{{ eos_token }}{%- endif -%}{%- endif -%}"
    "{%- else -%}{{ m['role'] + ':' }}{%- endif -%}"
    "{%- endfor -%}"
    "{{ '" + BOI + "' }}"
)


def build_tokenizer(out_dir: str) -> dict:
    """Train the byte-level BPE, append the special tokens, write tokenizer files; return ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    # Build the pre-tokenizer from its JSON form so the saved file has exactly PRE_TOKENIZER.
    spec = json.loads(tok.to_str())
    spec["pre_tokenizer"] = PRE_TOKENIZER
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=BPE_VOCAB,
        min_frequency=1,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    base = tok.get_vocab_size()
    if base != BPE_VOCAB:
        raise SystemExit(f"BPE vocab is {base}, expected {BPE_VOCAB}; enlarge the corpus")
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIAL_ORDER])
    ids = {s: tok.token_to_id(s) for s in SPECIAL_ORDER}
    bos_id = ids[BOS]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A",
        pair=f"{BOS} $A {BOS} $B",
        special_tokens=[(BOS, bos_id)],
    )
    spec = json.loads(tok.to_str())
    spec["normalizer"] = {"type": "Sequence", "normalizers": []}
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False, indent=2)
        f.write("\n")

    def tokdict(s):
        return {"content": s, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}

    special_map = {
        "additional_special_tokens": ADDITIONAL,
        "bos_token": tokdict(BOS),
        "eos_token": tokdict(EOS),
        "pad_token": tokdict(PAD),
    }
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump(special_map, f, ensure_ascii=False, indent=2)
        f.write("\n")
    tok_cfg = {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": BOS,
        "eos_token": EOS,
        "pad_token": PAD,
        "unk_token": None,
        "additional_special_tokens": ADDITIONAL,
        "extra_special_tokens": {"image_token": IMAGE, "boi_token": BOI, "eoi_token": EOI},
        "clean_up_tokenization_spaces": False,
        "legacy": True,
        "model_max_length": 16384,
        "tokenizer_class": "LlamaTokenizerFast",
        "use_default_system_prompt": True,
        "chat_template": [
            {"name": "default", "template": DEFAULT_TEMPLATE},
            {"name": "text_to_image", "template": T2I_TEMPLATE},
        ],
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tok_cfg, f, ensure_ascii=False, indent=2)
        f.write("\n")
    # BPE tokens that are not valid UTF-8 on their own (pieces of multi-byte characters).
    partial = [i for i in range(base) if "\ufffd" in tok.decode([i])]
    return {"bpe_vocab": base, "size": tok.get_vocab_size(), "ids": ids, "partial_utf8": partial}


def build_model(tok_info: dict):
    from transformers import (
        JanusConfig,
        JanusForConditionalGeneration,
        JanusVisionConfig,
        JanusVQVAEConfig,
        LlamaConfig,
    )

    ids = tok_info["ids"]
    text = LlamaConfig(
        vocab_size=TEXT_VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        head_dim=16,
        max_position_embeddings=512,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        hidden_act="silu",
        tie_word_embeddings=False,
        bos_token_id=ids[BOS],
        eos_token_id=ids[EOS],
        pad_token_id=ids[PAD],
        attention_bias=False,
        mlp_bias=False,
    )
    vision = JanusVisionConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        patch_size=PATCH,
        image_size=IMAGE_SIZE,
        mlp_ratio=4.0,
        projection_dim=64,
        depth=2,
        num_image_tokens=NUM_IMAGE_TOKENS,
    )
    vq = JanusVQVAEConfig(
        embed_dim=8,
        num_embeddings=128,
        latent_channels=32,
        base_channels=32,
        channel_multiplier=[1, 1, 1, 1, 1],
        num_res_blocks=2,
        projection_dim=64,
        image_token_embed_dim=64,
        num_hidden_layers=2,
    )
    cfg = JanusConfig(text_config=text, vision_config=vision, vq_config=vq, image_token_id=ids[IMAGE])
    torch.manual_seed(SEED)
    model = JanusForConditionalGeneration(cfg).eval()
    # Larger random weights than the 0.02 initializer so logits are well separated (greedy and
    # argmax parity are then robust to float32 rounding differences between runtimes).
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2 and "norm" not in name:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / fan_in**0.5)
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
        # Rows beyond the tokenizer exist only as embedding/lm_head rows (like 100.6k..102399):
        # make them unreachable by greedy decoding.
        model.lm_head.weight[tok_info["size"] :] = 0
        # Keep greedy text valid UTF-8 so decoded fixtures are readable: tokens that are only part
        # of a multi-byte character are made unlikely (zero logit) too.
        model.lm_head.weight[tok_info["partial_utf8"]] = 0
        # Generation embedding table (VQ-16 codebook for the gen path) stays N(0,1).
        model.model.generation_embeddings.weight.copy_(
            torch.randn(model.model.generation_embeddings.weight.shape, generator=g)
        )
    gen = model.generation_config
    gen.bos_token_id = ids[BOS]
    gen.eos_token_id = ids[EOS]
    gen.pad_token_id = ids[PAD]
    gen.guidance_scale = 5
    gen.temperature = 1.0
    gen.generation_kwargs = {"boi_token_id": ids[BOI], "num_image_tokens": NUM_IMAGE_TOKENS}
    gen._from_model_config = False  # otherwise generation_kwargs is dropped on load
    return model


def write_processor_files(ckpt: str, tok_info: dict):
    """Transformers-format processor files (JanusImageProcessor + JanusProcessor)."""
    pre = {
        "background_color": [127, 127, 127],
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_pad": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_processor_type": "JanusImageProcessor",
        "image_std": [0.5, 0.5, 0.5],
        "min_size": 14,
        "processor_class": "JanusProcessor",
        "resample": 3,
        "rescale_factor": 1.0 / 255.0,
        "size": {"height": IMAGE_SIZE, "width": IMAGE_SIZE},
    }
    with open(os.path.join(ckpt, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)
        f.write("\n")
    with open(os.path.join(ckpt, "processor_config.json"), "w") as f:
        json.dump({"processor_class": "JanusProcessor", "use_default_system_prompt": False}, f, indent=2)
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(HERE, "tiny_ckpt"))
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "janus", "tiny"))
    ap.add_argument("--no-export", action="store_true", help="only write the checkpoint")
    args = ap.parse_args(argv)

    os.makedirs(args.ckpt, exist_ok=True)
    tok_info = build_tokenizer(args.ckpt)
    model = build_model(tok_info)
    model.save_pretrained(args.ckpt, safe_serialization=True)
    write_processor_files(args.ckpt, tok_info)
    print(f"checkpoint: {args.ckpt}; tokenizer {tok_info['size']} tokens; ids {tok_info['ids']}")
    if args.no_export:
        return
    exporter = os.path.join(os.path.dirname(HERE), "export_janus.py")
    py = sys.executable
    # fp32 for all six graphs; language_model with external data (exercises .onnx_data loading).
    subprocess.check_call(
        [py, exporter, args.ckpt, args.out, "--dtype", "fp32", "--external-data", "language_model", "--clean", "--check"]
    )
    # fp16 variants for the graphs that have them upstream (no image_decode_fp16 / prepare_inputs_embeds_fp16).
    subprocess.check_call(
        [
            py,
            exporter,
            args.ckpt,
            args.out,
            "--dtype",
            "fp16",
            "--graphs",
            "language_model,lm_head,gen_head,gen_img_embeds",
            "--check",
        ]
    )


if __name__ == "__main__":
    main()
