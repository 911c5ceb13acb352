"""Cross-checks engine/tokenizer/testdata/hf/golden.json (made by golden.mjs with
Transformers.js) against Python transformers' LlamaTokenizerFast, which runs the
Rust `tokenizers` library. Prints every disagreement; exits 1 if there is any.

Usage: tools/.venv/bin/python tools/hf_golden/crosscheck.py
"""

import gzip
import json
import os
import shutil
import sys
import tempfile

from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "engine", "tokenizer", "testdata", "hf"))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        with gzip.open(os.path.join(DATA, "deepseek_v3_tokenizer.json.gz"), "rb") as src:
            with open(os.path.join(tmp, "tokenizer.json"), "wb") as dst:
                shutil.copyfileobj(src, dst)
        shutil.copy(os.path.join(DATA, "tokenizer_config.json"), tmp)
        tok = AutoTokenizer.from_pretrained(tmp)
    with open(os.path.join(DATA, "golden.json"), encoding="utf-8") as f:
        golden = json.load(f)
    bad = 0
    for case in golden["cases"]:
        text = case["text"]
        got = {
            "ids": tok.encode(text, add_special_tokens=False),
            "ids_special": tok.encode(text, add_special_tokens=True),
        }
        got["decoded"] = tok.decode(got["ids_special"], skip_special_tokens=True)
        for key, value in got.items():
            if value != case[key]:
                bad += 1
                print(f"{key} differs for {text!r}: golden {case[key]!r}, python {value!r}")
    print(f"{type(tok).__name__}: {len(golden['cases'])} cases, {bad} disagreements")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
