package janus

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"diptych/engine/tokenizer"
)

// loadTokenizer loads tokenizer.json (and tokenizer_config.json beside it).
//
// Workaround: engine/tokenizer's Digits pre-tokenizer splits every
// non-digit character into its own piece (HF keeps runs of non-digits
// whole), which disables BPE merges on DeepSeek-style tokenizers. A Digits
// pre-tokenizer is therefore rewritten as the equivalent Split on \p{N}
// (individual digits) or \p{N}+ (contiguous), behaviour Isolated, which is
// what the Rust implementation does. Harmless once the package is fixed.
func loadTokenizer(path string) (*tokenizer.HF, error) {
	tok, err := tokenizer.LoadHF(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	pre, changed, err := rewriteDigits(top["pre_tokenizer"])
	if err != nil || !changed {
		return tok, nil
	}
	top["pre_tokenizer"] = pre
	fixed, err := json.Marshal(top)
	if err != nil {
		return tok, nil
	}
	cfg, err := os.ReadFile(filepath.Join(filepath.Dir(path), "tokenizer_config.json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	out, err := tokenizer.ParseHF(fixed, cfg)
	if err != nil {
		return tok, nil
	}
	return out, nil
}

// rewriteDigits replaces Digits pre-tokenizers (also inside a Sequence).
func rewriteDigits(raw json.RawMessage) (json.RawMessage, bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return raw, false, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return raw, false, err
	}
	var typ string
	json.Unmarshal(obj["type"], &typ)
	switch typ {
	case "Digits":
		var individual bool
		json.Unmarshal(obj["individual_digits"], &individual)
		pattern := `\p{N}+`
		if individual {
			pattern = `\p{N}`
		}
		out, err := json.Marshal(map[string]any{"type": "Split", "pattern": map[string]string{"Regex": pattern},
			"behavior": "Isolated", "invert": false})
		return out, err == nil, err
	case "Sequence":
		var list []json.RawMessage
		if err := json.Unmarshal(obj["pretokenizers"], &list); err != nil {
			return raw, false, err
		}
		changed := false
		for i, item := range list {
			r, c, err := rewriteDigits(item)
			if err != nil {
				return raw, false, err
			}
			list[i], changed = r, changed || c
		}
		if !changed {
			return raw, false, nil
		}
		b, err := json.Marshal(list)
		if err != nil {
			return raw, false, err
		}
		obj["pretokenizers"] = b
		out, err := json.Marshal(obj)
		return out, err == nil, err
	}
	return raw, false, nil
}
