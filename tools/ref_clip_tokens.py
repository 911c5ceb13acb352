#!/usr/bin/env python3
"""Write engine/tokenizer/testdata/clip/golden.json: CLIP token ids from
transformers' slow CLIPTokenizer (what diffusers loads for SDXL) for the Go
tokenizer in engine/tokenizer/clip.go.

Run with the project venv:  tools/.venv/bin/python tools/ref_clip_tokens.py

Both SDXL tokenizer folders are emulated: testdata/clip/vocab.json + merges.txt
with testdata/clip/tokenizer/*.json (pad <|endoftext|>) and
testdata/clip/tokenizer_2/*.json (pad "!"). ftfy must NOT be installed: the
Go port reproduces transformers' fallback text cleaning (BasicTokenizer).
"""
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "..", "engine", "tokenizer", "testdata", "clip")
OUT = os.path.join(BASE, "golden.json")

LONG1 = ("A breathtaking ultra detailed matte painting of an ancient floating city above the clouds at golden hour, "
         "intricate gothic spires, waterfalls cascading into the void, flocks of white birds, volumetric god rays, "
         "cinematic lighting, trending on artstation, concept art by greg rutkowski and alphonse mucha, 8k, "
         "highly detailed, sharp focus, octane render, unreal engine 5, masterpiece, best quality")
LONG2 = " ".join(["cat"] * 80)
LONG3 = ", ".join("word%d" % i for i in range(60))

PROMPTS = [
    "a photo of a cat",
    "a photo of a dog",
    "Hello, world!",
    "",
    "An astronaut riding a green horse",
    "A majestic lion jumping from a big stone at night",
    "don't stop 42 times",
    "Astronaut in a jungle, cold color palette, muted colors, detailed, 8k",
    "a photo of an astronaut riding a horse on mars",
    "café",
    # punctuation and numbers
    "wow!!! amazing?!",
    "hello!",
    "!important",
    "a ! b",
    "...",
    "1024x1024 image, 3.14159, $100, 50% off, #hashtag @user",
    "1,000,000 stars in 2024",
    "0.5 1/2 3-4 5:6",
    "C++ and C# are e-mail state-of-the-art rock&roll",
    "(masterpiece:1.2), [bad quality], {blue|red} <lora:foo:0.8>",
    "a | b || c",
    "\"quoted\" 'single' `back`",
    "~tilde^caret_underscore\\backslash/slash",
    # casing and whitespace
    "HeLLo WoRLD",
    "   leading and trailing spaces   ",
    "multiple     spaces    between",
    "tabs\tand\nnewlines\r\nand\n\nblank lines",
    "a\u00a0non-breaking\u3000ideographic\u2003em space",
    "line\u2028separator\u2029paragraph",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "null\x00char and \x07bell \x1b[31mansi",
    "replacement \ufffd char",
    # apostrophes and contractions
    "it's I'm we'll they've she'd you're isn't",
    "IT'S I'M WE'LL THEY'VE",
    "rock 'n' roll 's 't",
    "don\u2019t curly apostrophe",
    "''double'' apostrophes'",
    "o'clock o'neil",
    # accents and scripts
    "naïve résumé über straße",
    "cafe\u0301 decomposed accent",
    "ÀÉÎÕÜ Ç Ñ",
    "İstanbul",
    "ΟΔΟΣ ΣΑΣ Σ ΑΣ. σς",
    "кошка в шляпе",
    "قطة جميلة",
    "बिल्ली",
    "แมวน่ารัก",
    "ﬁ ligature ﬀ",
    "ＡＢＣ１２３ fullwidth",
    "Ⅻ roman numeral ½ ² ③",
    "µ micro ℃ degrees ™",
    # CJK
    "一只猫",
    "東京タワー",
    "日本語のテキスト",
    "한국어 텍스트",
    "猫cat猫 mixed",
    "中文，标点。",
    # emoji
    "🐱 cat",
    "👩‍🚀 astronaut",
    "❤️ love",
    "🇯🇵 flag",
    "👍🏽 thumbs",
    "cat🐱dog🐶",
    # html entities (not unescaped by transformers' slow tokenizer)
    "&amp; &lt;b&gt; &quot;hi&quot; &#39; &nbsp;",
    "fish &amp; chips",
    # special tokens inside the text
    "<|endoftext|>",
    "<|startoftext|>a photo",
    "a<|endoftext|>b",
    "<|ENDOFTEXT|> upper",
    "hi!<|endoftext|>",
    # long
    LONG1,
    LONG2,
    LONG3,
    "a" * 300,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    # misc prompts
    "portrait of a woman, 85mm, f/1.8, bokeh, Kodak Portra 400",
    "isometric 3d render of a tiny room, blender, low poly",
    "photograph of a red apple on a wooden table, studio lighting",
    "a cute corgi wearing sunglasses, digital art",
    "A cinematic shot of a baby racoon wearing an intricate italian priest robe.",
    "watercolor painting of a lighthouse during a storm",
    "The quick brown fox jumps over the lazy dog.",
    "pixel art, 16-bit, retro game sprite of a knight",
    "ultra-realistic, hdr, 4k uhd, dslr, soft lighting, high quality, film grain",
    "low quality, blurry, jpeg artifacts, watermark, text, signature",
    "steampunk airship over victorian london, sepia",
    "a bowl of ramen, anime style, studio ghibli",
    "cyberpunk street at night, neon signs, rain, reflections",
    "a sign that says \"SDXL\"",
    "email me at someone@example.com or visit https://example.com/path?q=1&x=2",
    "x = f(y) + 2 * z; // code",
    "Mt. Fuji at 5 a.m. — dawn – sunrise…",
    "«guillemets» „quotes“ ‘single’",
    "tab\tseparated\tvalues",
    "   ",
    "!!!",
    "!",
]


def load(sub):
    d = tempfile.mkdtemp()
    for f in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(BASE, f), d)
    for f in os.listdir(os.path.join(BASE, sub)):
        shutil.copy(os.path.join(BASE, sub, f), d)
    from transformers import CLIPTokenizer

    t = CLIPTokenizer.from_pretrained(d)
    shutil.rmtree(d)
    return t


def main():
    try:
        import ftfy  # noqa: F401
        sys.exit("ftfy is installed; uninstall it so transformers uses its BasicTokenizer fallback")
    except ImportError:
        pass
    import transformers

    toks = {"tokenizer": load("tokenizer"), "tokenizer_2": load("tokenizer_2")}
    assert len(PROMPTS) == len(set(PROMPTS)), "duplicate prompts"
    cases = []
    for p in PROMPTS:
        c = {"prompt": p}
        for name, t in toks.items():
            ids = t(p).input_ids
            padded = t(p, padding="max_length", max_length=77, truncation=True).input_ids
            c[name] = {"ids": ids, "padded77": padded, "truncated": len(ids) > 77}
        t = toks["tokenizer"]
        content = c["tokenizer"]["ids"][1:-1]
        c["decoded"] = t.convert_tokens_to_string(t.convert_ids_to_tokens(content))
        cases.append(c)
    doc = {
        "generated_by": "tools/ref_clip_tokens.py",
        "transformers_version": transformers.__version__,
        "tokenizer_class": type(toks["tokenizer"]).__name__,
        "pad_ids": {n: t.pad_token_id for n, t in toks.items()},
        "cases": cases,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote %s (%d prompts)" % (os.path.normpath(OUT), len(cases)), file=sys.stderr)


if __name__ == "__main__":
    main()
