package tokenizer

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// deepSeekJSON returns the decompressed DeepSeek-V3 tokenizer.json and its
// tokenizer_config.json from testdata/hf (see tools/hf_golden).
var deepSeekJSON = sync.OnceValues(func() ([2][]byte, error) {
	var out [2][]byte
	f, err := os.Open(filepath.Join("testdata", "hf", "deepseek_v3_tokenizer.json.gz"))
	if err != nil {
		return out, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return out, err
	}
	if out[0], err = io.ReadAll(zr); err != nil {
		return out, err
	}
	out[1], err = os.ReadFile(filepath.Join("testdata", "hf", "tokenizer_config.json"))
	return out, err
})

var deepSeek = sync.OnceValues(func() (*HF, error) {
	files, err := deepSeekJSON()
	if err != nil {
		return nil, err
	}
	return ParseHF(files[0], files[1])
})

func loadDeepSeek(tb testing.TB) *HF {
	tb.Helper()
	h, err := deepSeek()
	if err != nil {
		tb.Fatalf("load DeepSeek-V3 tokenizer: %v", err)
	}
	return h
}

type goldenCase struct {
	Text       string `json:"text"`
	IDs        []int  `json:"ids"`
	IDsSpecial []int  `json:"ids_special"`
	Decoded    string `json:"decoded"`
}

// TestHFGoldenDeepSeek compares every case of testdata/hf/golden.json, made
// by Transformers.js (and cross-checked against Python transformers), with
// Encode (with and without special tokens) and Decode.
func TestHFGoldenDeepSeek(t *testing.T) {
	h := loadDeepSeek(t)
	data, err := os.ReadFile(filepath.Join("testdata", "hf", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatalf("golden.json: %v", err)
	}
	if len(golden.Cases) < 250 {
		t.Fatalf("golden.json has %d cases, want at least 250", len(golden.Cases))
	}
	matched := 0
	for _, c := range golden.Cases {
		ok := true
		if got := h.Encode(c.Text, false); !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q, false) = %v, want %v", c.Text, got, c.IDs)
			ok = false
		}
		got := h.Encode(c.Text, true)
		if !slices.Equal(got, c.IDsSpecial) {
			t.Errorf("Encode(%q, true) = %v, want %v", c.Text, got, c.IDsSpecial)
			ok = false
		}
		if dec := h.Decode(c.IDsSpecial, true); dec != c.Decoded {
			t.Errorf("Decode(%v, true) = %q, want %q", c.IDsSpecial, dec, c.Decoded)
			ok = false
		}
		if ok {
			matched++
		}
	}
	t.Logf("%d/%d golden cases match", matched, len(golden.Cases))
}

// TestHFDeepSeekFacts checks ids and flags read from the DeepSeek-V3 files
// against the values stated in tokenizer.json / tokenizer_config.json.
func TestHFDeepSeekFacts(t *testing.T) {
	h := loadDeepSeek(t)
	// 128000 model tokens (0..127999) plus added tokens up to id 128814.
	if got := h.VocabSize(); got != 128815 {
		t.Errorf("VocabSize = %d, want 128815", got)
	}
	if id, ok := h.BOS(); !ok || id != 0 {
		t.Errorf("BOS = %d, %v; want 0, true", id, ok)
	}
	if id, ok := h.EOS(); !ok || id != 1 {
		t.Errorf("EOS = %d, %v; want 1, true", id, ok)
	}
	// tokenizer_config.json sets pad_token to the EOS token.
	if id, ok := h.PadID(); !ok || id != 1 {
		t.Errorf("PadID = %d, %v; want 1, true", id, ok)
	}
	if id, ok := h.TokenID("<｜▁pad▁｜>"); !ok || id != 2 {
		t.Errorf("TokenID(pad) = %d, %v; want 2, true", id, ok)
	}
	if id, ok := h.TokenID("<｜User｜>"); !ok || id != 128803 || h.IsSpecial(id) {
		t.Errorf("TokenID(<｜User｜>) = %d, %v, special %v; want 128803, true, not special", id, ok, h.IsSpecial(id))
	}
	if !h.IsSpecial(0) || !h.IsSpecial(1) || h.IsSpecial(6366) {
		t.Errorf("IsSpecial(0, 1, 6366) = %v %v %v, want true true false", h.IsSpecial(0), h.IsSpecial(1), h.IsSpecial(6366))
	}
	if got := h.Token(128805); got != "<|EOT|>" {
		t.Errorf("Token(128805) = %q, want <|EOT|>", got)
	}
	if got := h.Token(-1) + h.Token(1<<30); got != "" {
		t.Errorf("Token(out of range) = %q, want empty", got)
	}
	if _, ok := h.TokenID("no such token"); ok {
		t.Error("TokenID(no such token) reported found")
	}
	// Non-special added tokens stay in the decoded text; special ones go.
	if got := h.Decode([]int{0, 128803, 6366, 1}, true); got != "<｜User｜>hi" {
		t.Errorf("Decode skipping specials = %q, want %q", got, "<｜User｜>hi")
	}
	if got := h.Decode([]int{0, 6366, 1}, false); got != "<｜begin▁of▁sentence｜>hi<｜end▁of▁sentence｜>" {
		t.Errorf("Decode keeping specials = %q", got)
	}
}

func TestHFConcurrentEncode(t *testing.T) {
	h := loadDeepSeek(t)
	texts := []string{"A photo of a cat", "一只可爱的猫", "def foo(x):\n    return x", "  spaced  out  "}
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = h.Encode(s, true)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 200; k++ {
				i := (g + k) % len(texts)
				if got := h.Encode(texts[i], true); !slices.Equal(got, want[i]) {
					t.Errorf("concurrent Encode(%q) = %v, want %v", texts[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestLoadHFPaths(t *testing.T) {
	files, err := deepSeekJSON()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), files[0], 0o644); err != nil {
		t.Fatal(err)
	}
	// Without tokenizer_config.json the file's ByteLevel post-processor adds
	// nothing, and BOS is unknown.
	h, err := LoadHF(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Encode("hi", true); !slices.Equal(got, []int{6366}) {
		t.Errorf("Encode(hi, true) without config = %v, want [6366]", got)
	}
	if _, ok := h.BOS(); ok {
		t.Error("BOS known without tokenizer_config.json")
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), files[1], 0o644); err != nil {
		t.Fatal(err)
	}
	h, err = LoadHF(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Encode("hi", true); !slices.Equal(got, []int{0, 6366}) {
		t.Errorf("Encode(hi, true) with config = %v, want [0 6366]", got)
	}

	// Truncated tokenizer.json: the error names the file and the JSON problem.
	bad := filepath.Join(dir, "bad", "tokenizer.json")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	os.WriteFile(bad, files[0][:1000], 0o644)
	_, err = LoadHF(filepath.Dir(bad))
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "unexpected end of JSON input") {
		t.Errorf("truncated file error = %v, want the path and \"unexpected end of JSON input\"", err)
	}
	// Corrupt tokenizer_config.json: the error names that file.
	os.WriteFile(filepath.Join(filepath.Dir(bad), "tokenizer.json"), files[0], 0o644)
	cfg := filepath.Join(filepath.Dir(bad), "tokenizer_config.json")
	os.WriteFile(cfg, []byte(`{"add_bos_token": tru}`), 0o644)
	_, err = LoadHF(filepath.Dir(bad))
	if err == nil || !strings.Contains(err.Error(), cfg) || !strings.Contains(err.Error(), "invalid JSON at byte") {
		t.Errorf("corrupt config error = %v, want the config path and the JSON offset", err)
	}
	if _, err := LoadHF(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing path error = %v", err)
	}
}

func BenchmarkHFLoad(b *testing.B) {
	files, err := deepSeekJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(files[0])))
	for b.Loop() {
		if _, err := ParseHF(files[0], files[1]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHFEncode(b *testing.B) {
	h := loadDeepSeek(b)
	text := "<｜User｜>: A cyberpunk city at night, neon lights, rain, reflections, 8k, ultra realistic. " +
		"一只可爱的猫坐在窗台上，阳光洒在它身上。 def foo(x):\n    return x * 2\n\n<｜Assistant｜>:"
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		h.Encode(text, true)
	}
}

// synthByteLevel is a tiny GPT-2-style tokenizer: a Replace + Lowercase
// normalizer, ByteLevel(add_prefix_space, use_regex), a <s> A </s> template,
// an lstrip/rstrip special token matched on the raw text and a normalized
// non-special token matched after lowercasing. Added-token ids follow the
// model vocabulary, as the Rust library requires.
const synthByteLevel = `{
  "version": "1.0",
  "added_tokens": [
    {"id": 9, "content": "<sep>", "single_word": false, "lstrip": true, "rstrip": true, "normalized": false, "special": true},
    {"id": 10, "content": "[X]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": false},
    {"id": 11, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 12, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": {"type": "Sequence", "normalizers": [
    {"type": "Replace", "pattern": {"String": "’"}, "content": "'"},
    {"type": "Lowercase"}
  ]},
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
    "special_tokens": {"<s>": {"id": "<s>", "ids": [11], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [12], "tokens": ["</s>"]}}},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, "end_of_word_suffix": null,
    "fuse_unk": false, "byte_fallback": false,
    "vocab": {"h": 0, "i": 1, "Ġ": 2, "Ġh": 3, "Ġhi": 4, "'": 5, "s": 6, "'s": 7, "!": 8},
    "merges": [["Ġ", "h"], ["Ġh", "i"], ["'", "s"]]}
}`

// The expected ids below were derived by hand (reasoning in the comments) and
// agree with the Rust tokenizers 0.22.2 library (Python
// tokenizers.Tokenizer.from_str on the same JSON).
func TestHFSyntheticByteLevel(t *testing.T) {
	h, err := ParseHF([]byte(synthByteLevel), nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text string
		ids  []int // with special tokens
		dec  string
	}{
		// "<sep>" is cut from the raw text first; lstrip takes the space
		// before it and rstrip the two after it. "HI’s" normalizes to "hi's";
		// ByteLevel prepends a space and the GPT-2 regex gives " hi" + "'s"
		// → "Ġhi" (merges Ġ+h rank 0, Ġh+i rank 1 → 4) and "'s" (merge
		// rank 2 → 7). "Hi![X]" normalizes to "hi![x]", where the normalized
		// added token "[X]" (stored lowercased as "[x]") matches → 10; " hi!"
		// gives "Ġhi" 4 and "!" 8. The template wraps it in 11 … 12.
		{"HI’s <sep>  Hi![X]", []int{11, 4, 7, 9, 4, 8, 10, 12}, " hi's hi![X]"},
		// "hi " → " hi " → " hi" + " " → 4, 2 ("Ġ"); then "[x]" → 10.
		{"hi [x]", []int{11, 4, 2, 10, 12}, " hi [X]"},
		// lstrip/rstrip eat all whitespace around <sep> (tab included); "!"
		// alone gets the prefix space: "Ġ" 2, "!" 8.
		{"Hi   <sep>\t!", []int{11, 4, 9, 2, 8, 12}, " hi !"},
		// Only special tokens: nothing else to encode.
		{"<sep>", []int{11, 9, 12}, ""},
		// Characters missing from the vocabulary (no unk, no byte fallback)
		// are dropped: "Ωs" → " ωs", one letter run for the regex; the two
		// byte symbols of ω have no token, leaving "Ġ" 2 and "s" 6.
		{"Ωs", []int{11, 2, 6, 12}, " s"},
	}
	for _, c := range cases {
		if got := h.Encode(c.text, true); !slices.Equal(got, c.ids) {
			t.Errorf("Encode(%q, true) = %v, want %v", c.text, got, c.ids)
		}
		if got := h.Encode(c.text, false); !slices.Equal(got, c.ids[1:len(c.ids)-1]) {
			t.Errorf("Encode(%q, false) = %v, want %v", c.text, got, c.ids[1:len(c.ids)-1])
		}
		if got := h.Decode(c.ids, true); got != c.dec {
			t.Errorf("Decode(%v, true) = %q, want %q", c.ids, got, c.dec)
		}
	}
	// Kept special tokens pass through the ByteLevel decoder unchanged.
	if got := h.Decode([]int{11, 4, 9, 12}, false); got != "<s> hi<sep></s>" {
		t.Errorf("Decode keeping specials = %q", got)
	}
	// Without tokenizer_config.json, BOS / EOS come from the template.
	if id, ok := h.BOS(); !ok || id != 11 {
		t.Errorf("BOS = %d, %v; want 11 from the template", id, ok)
	}
	if id, ok := h.EOS(); !ok || id != 12 {
		t.Errorf("EOS = %d, %v; want 12 from the template", id, ok)
	}
	if _, ok := h.PadID(); ok {
		t.Error("PadID known, want unknown")
	}
	// tokenizer_config.json's add_bos_token / add_eos_token replace the
	// template, as LlamaTokenizerFast does.
	h, err = ParseHF([]byte(synthByteLevel), []byte(`{"add_bos_token": false, "add_eos_token": true, "eos_token": {"content": "</s>"}, "pad_token": "<sep>"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Encode("hi", true); !slices.Equal(got, []int{4, 12}) {
		t.Errorf("Encode(hi) with add_bos_token=false, add_eos_token=true = %v, want [4 12]", got)
	}
	if id, ok := h.PadID(); !ok || id != 9 {
		t.Errorf("PadID = %d, %v; want 9", id, ok)
	}
	// Tokens named in tokenizer_config.json become special, so Decode skips
	// "[X]" (special=false in tokenizer.json) once it is listed there; Python
	// transformers decodes [4 10 4] to " hi hi" the same way.
	h, err = ParseHF([]byte(synthByteLevel), []byte(`{"additional_special_tokens": ["[X]"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Decode([]int{4, 10, 4}, true); got != " hi hi" || !h.IsSpecial(10) {
		t.Errorf("Decode with [X] listed as special = %q, IsSpecial(10) = %v; want \" hi hi\", true", got, h.IsSpecial(10))
	}
	if _, err := ParseHF([]byte(synthByteLevel), []byte(`{"add_bos_token": true, "bos_token": "<nope>"}`)); err == nil ||
		!strings.Contains(err.Error(), `bos_token "<nope>"`) || !strings.Contains(err.Error(), "tokenizer_config.json") {
		t.Errorf("unknown bos_token error = %v", err)
	}
}

// synthSentencePiece is a Llama-2-like tokenizer without a pre-tokenizer:
// Prepend("▁") + Replace(" " → "▁"), byte fallback, a fused unknown token
// and the Replace / ByteFallback / Fuse / Strip decoder chain.
const synthSentencePiece = `{
  "version": "1.0",
  "added_tokens": [
    {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": {"type": "Sequence", "normalizers": [
    {"type": "Prepend", "prepend": "▁"},
    {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}
  ]},
  "pre_tokenizer": null,
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
    "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
  "decoder": {"type": "Sequence", "decoders": [
    {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
    {"type": "ByteFallback"},
    {"type": "Fuse"},
    {"type": "Strip", "content": " ", "start": 1, "stop": 0}
  ]},
  "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null, "end_of_word_suffix": null,
    "fuse_unk": true, "byte_fallback": true,
    "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0xC3>": 3, "<0xA9>": 4, "▁": 5, "a": 6, "b": 7, "▁a": 8, "▁ab": 9},
    "merges": ["▁ a", "▁a b"]}
}`

func TestHFSyntheticSentencePiece(t *testing.T) {
	h, err := ParseHF([]byte(synthSentencePiece), nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text string
		ids  []int // with special tokens
		dec  string
	}{
		// "ab é" → Prepend → "▁ab é" → Replace → "▁ab▁é": symbols ▁ a b ▁ é;
		// é is not in the vocabulary, so byte fallback gives <0xC3> 3 <0xA9> 4.
		// Merges ▁+a (rank 0) → ▁a, ▁a+b (rank 1) → ▁ab 9. The decoder turns
		// ▁ into spaces, the byte tokens into "é", fuses, and strips one
		// leading space.
		{"ab é", []int{1, 9, 5, 3, 4}, "ab é"},
		// "▁axx": x has no token and no <0x78> byte token, so both x become
		// <unk>, fused into one 0; ▁+a → ▁a 8.
		{"axx", []int{1, 8, 0}, "a"},
		// "▁b": no merge applies → ▁ 5, b 7.
		{"b", []int{1, 5, 7}, "b"},
		// Empty input: Prepend adds nothing to an empty string.
		{"", []int{1}, ""},
		// The special token is cut out before normalization, so "ab" gets
		// its ▁ but "</s>" is not prefixed.
		{"ab</s>", []int{1, 9, 2}, "ab"},
	}
	for _, c := range cases {
		if got := h.Encode(c.text, true); !slices.Equal(got, c.ids) {
			t.Errorf("Encode(%q, true) = %v, want %v", c.text, got, c.ids)
		}
		if got := h.Decode(c.ids, true); got != c.dec {
			t.Errorf("Decode(%v, true) = %q, want %q", c.ids, got, c.dec)
		}
	}
	// An invalid byte run decodes to one U+FFFD per byte (ByteFallback).
	if got := h.Decode([]int{5, 3, 6}, false); got != "\uFFFDa" {
		t.Errorf("Decode(▁ <0xC3> a) = %q, want %q", got, "\uFFFDa")
	}
}

// synthWords covers single_word added tokens, ignore_merges and a String
// Split pattern with the Removed behaviour; it has no decoder, so Decode
// joins tokens with spaces.
const synthWords = `{"version": "1.0",
 "added_tokens": [{"id": 5, "content": "cc", "single_word": true, "lstrip": false, "rstrip": false, "normalized": false, "special": false}],
 "normalizer": null,
 "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Removed", "invert": false},
 "post_processor": null, "decoder": null,
 "model": {"type": "BPE", "ignore_merges": true, "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4}, "merges": ["a b"]}}`

func TestHFSyntheticWords(t *testing.T) {
	h, err := ParseHF([]byte(synthWords), nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text string
		ids  []int
	}{
		// ignore_merges: "abc" and "ab" are whole vocabulary entries.
		{"abc ab", []int{4, 3}},
		// "abcab" is not in the vocabulary: BPE merges a+b twice → ab c ab.
		{"abcab", []int{3, 2, 3}},
		// single_word "cc": matches alone and after "-", not after "x" or
		// before "_" (letters, digits and "_" are word characters). x and _
		// have no token and are dropped.
		{"cc xcc cc_ -cc", []int{5, 2, 2, 2, 2, 5}},
		// The longest match "cc" at 0 is followed by "c": rejected, and the
		// scan goes on after it, so no "cc" is found at 1.
		{"ccc", []int{2, 2, 2}},
	}
	for _, c := range cases {
		if got := h.Encode(c.text, true); !slices.Equal(got, c.ids) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.ids)
		}
	}
	if got := h.Decode([]int{4, 5, 99}, false); got != "abc cc" {
		t.Errorf("Decode without decoder = %q, want %q (unknown id skipped)", got, "abc cc")
	}
	// Without ignore_merges "abc" is a + b + c → ab c.
	noIgnore := strings.Replace(synthWords, `"ignore_merges": true`, `"ignore_merges": false`, 1)
	if h, err = ParseHF([]byte(noIgnore), nil); err != nil {
		t.Fatal(err)
	}
	if got := h.Encode("abc ab", false); !slices.Equal(got, []int{3, 2, 3}) {
		t.Errorf("Encode(abc ab) without ignore_merges = %v, want [3 2 3]", got)
	}
	// end_of_word_suffix: the last symbol of each word carries "</w>", so
	// "ab" → a b</w> → ab</w> (merge "a b</w>"), while "abc" → a b c</w>
	// → ab (merge "a b") c</w>.
	suffix := `{"model": {"type": "BPE", "end_of_word_suffix": "</w>",
	  "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "b</w>": 5, "ab</w>": 6, "c</w>": 7}, "merges": ["a b</w>", "a b"]},
	  "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Removed", "invert": false}}`
	if h, err = ParseHF([]byte(suffix), nil); err != nil {
		t.Fatal(err)
	}
	if got := h.Encode("ab abc c", false); !slices.Equal(got, []int{6, 3, 7, 7}) {
		t.Errorf("Encode with end_of_word_suffix = %v, want [6 3 7 7]", got)
	}
}

// preTokens runs only the pre-tokenizer of a tokenizer built around pre.
func preTokens(t *testing.T, pre, text string) []string {
	t.Helper()
	h, err := ParseHF([]byte(`{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": `+pre+`}`), nil)
	if err != nil {
		t.Fatalf("pre_tokenizer %s: %v", pre, err)
	}
	pieces := []string{text}
	for _, pt := range h.preTokenize {
		pieces = pt(pieces)
	}
	return pieces
}

// TestHFPreTokenizers checks the Split behaviours on the example of the
// tokenizers documentation ("the-final--countdown" split on "-"), the
// inverted forms, Digits and ByteLevel variants. The inverted and other
// expectations follow from the same rules and agree with the Rust library.
func TestHFPreTokenizers(t *testing.T) {
	split := func(pattern, behavior string, invert bool) string {
		return `{"type": "Split", "pattern": ` + pattern + `, "behavior": "` + behavior + `", "invert": ` + map[bool]string{true: "true", false: "false"}[invert] + `}`
	}
	s := "the-final--countdown"
	cases := []struct {
		pre, text string
		want      []string
	}{
		{split(`{"String": "-"}`, "Removed", false), s, []string{"the", "final", "countdown"}},
		{split(`{"String": "-"}`, "Isolated", false), s, []string{"the", "-", "final", "-", "-", "countdown"}},
		{split(`{"String": "-"}`, "MergedWithPrevious", false), s, []string{"the-", "final-", "-", "countdown"}},
		{split(`{"String": "-"}`, "MergedWithNext", false), s, []string{"the", "-final", "-", "-countdown"}},
		{split(`{"String": "-"}`, "Contiguous", false), s, []string{"the", "-", "final", "--", "countdown"}},
		// invert: the words become the delimiters and "-+" runs the content.
		{split(`{"Regex": "-+"}`, "Removed", true), s, []string{"-", "--"}},
		{split(`{"Regex": "-+"}`, "Isolated", true), s, []string{"the", "-", "final", "--", "countdown"}},
		{split(`{"Regex": "-+"}`, "MergedWithPrevious", true), s, []string{"the", "-final", "--countdown"}},
		{split(`{"Regex": "-+"}`, "MergedWithNext", true), s, []string{"the-", "final--", "countdown"}},
		{split(`{"Regex": "\\w+"}`, "Removed", true), "hello, world!", []string{"hello", "world"}},
		// Look-ahead (needs regexp2): trailing spaces before a word stay apart.
		{split(`{"Regex": "\\s+(?!\\S)|\\s+"}`, "Isolated", false), "a   b", []string{"a", "  ", " ", "b"}},
		// Digits: any Unicode number (here a fullwidth 3) counts.
		{`{"type": "Digits", "individual_digits": true}`, "a12b３", []string{"a", "1", "2", "b", "３"}},
		{`{"type": "Digits", "individual_digits": false}`, "a12b３", []string{"a", "12", "b", "３"}},
		// Runs of other characters stay whole (HF splits on a char predicate).
		{`{"type": "Digits", "individual_digits": true}`, "ab12cd 3x", []string{"ab", "1", "2", "cd ", "3", "x"}},
		{`{"type": "Digits", "individual_digits": false}`, "hello 2026 world", []string{"hello ", "2026", " world"}},
		// ByteLevel: space → Ġ, newline → Ċ; without the regex only the
		// prefix space is added.
		{`{"type": "ByteLevel", "add_prefix_space": true, "use_regex": false}`, "hi  there", []string{"ĠhiĠĠthere"}},
		{`{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}`, "I'll go  now!\n", []string{"I", "'ll", "Ġgo", "Ġ", "Ġnow", "!", "Ċ"}},
		// add_prefix_space applies to every piece of an earlier split.
		{`{"type": "Sequence", "pretokenizers": [` + split(`{"Regex": "\\s+"}`, "Removed", false) + `, {"type": "ByteLevel", "add_prefix_space": true, "use_regex": false}]}`, "a b", []string{"Ġa", "Ġb"}},
	}
	for _, c := range cases {
		if got := preTokens(t, c.pre, c.text); !slices.Equal(got, c.want) {
			t.Errorf("%s on %q = %q, want %q", c.pre, c.text, got, c.want)
		}
	}
}

func TestHFNormalizers(t *testing.T) {
	cases := []struct {
		norm, in, want string
	}{
		{`{"type": "NFC"}`, "e\u0301", "é"},
		{`{"type": "NFD"}`, "é", "e\u0301"},
		{`{"type": "NFKC"}`, "ﬁ①ｶ", "fi1カ"},
		{`{"type": "NFKD"}`, "ﬁé", "fie\u0301"},
		{`{"type": "Lowercase"}`, "ÀB İ", "àb i\u0307"},
		{`{"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}`, "a \t\n b", "a b"},
		{`{"type": "Replace", "pattern": {"String": "$1"}, "content": "$2"}`, "x$1y", "x$2y"},
		{`{"type": "Strip", "strip_left": true, "strip_right": true}`, "  a b \n", "a b"},
		{`{"type": "Strip", "strip_left": true, "strip_right": false}`, "  a ", "a "},
		{`{"type": "Prepend", "prepend": "▁"}`, "x", "▁x"},
		{`{"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]}`, "Ｈｉ", "hi"},
	}
	for _, c := range cases {
		fn, err := parseNormalizer(json.RawMessage(c.norm), "normalizer")
		if err != nil {
			t.Fatalf("%s: %v", c.norm, err)
		}
		if got := fn(c.in); got != c.want {
			t.Errorf("%s(%q) = %q, want %q", c.norm, c.in, got, c.want)
		}
	}
}

// TestHFErrors checks that unsupported or broken parts are reported with
// the JSON field and value.
func TestHFErrors(t *testing.T) {
	base := `{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}`
	cases := []struct {
		json, want string
	}{
		{`{"model": {"type": "WordPiece", "vocab": {}}}`, `model.type "WordPiece" is not supported`},
		{`{"model": {"type": "BPE"}}`, `model.vocab is missing`},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}`, `model.merges[0] "a" + "b": token not in model.vocab`},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}}`, `model.merges[0]: expected "a b"`},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "dropout": 0.1}}`, `model.dropout 0.1 is not supported`},
		{`{"model": {"type": "BPE", "vocab": {"a": 0}, "unk_token": "<unk>"}}`, `model.unk_token "<unk>" is not in model.vocab`},
		{base + `, "normalizer": {"type": "BertNormalizer"}}`, `normalizer.type "BertNormalizer" is not supported`},
		{base + `, "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Precompiled"}]}}`, `normalizer.normalizers[1].type "Precompiled"`},
		{base + `, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "Metaspace"}]}}`, `pre_tokenizer.pretokenizers[1].type "Metaspace" is not supported`},
		{base + `, "pre_tokenizer": {"type": "Split", "pattern": {"String": "-"}, "behavior": "Sideways"}}`, `pre_tokenizer.behavior "Sideways" is not supported`},
		{base + `, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"}}`, `pre_tokenizer.pattern.Regex "(a"`},
		{base + `, "pre_tokenizer": {"type": "Split", "pattern": {}, "behavior": "Isolated"}}`, `pre_tokenizer.pattern: expected {"String": ...} or {"Regex": ...}`},
		{base + `, "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}], "special_tokens": {}}}`, `post_processor.single[0]: special token "<s>" missing from special_tokens`},
		{base + `, "post_processor": {"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "Magic"}]}}`, `post_processor.processors[1].type "Magic" is not supported`},
		{base + `, "decoder": {"type": "WordPiece"}}`, `decoder.type "WordPiece" is not supported`},
		{base + `, "added_tokens": [{"id": 3, "content": ""}]}`, `added_tokens[0]: content is empty`},
		{`{"model": {"type": "BPE", "vocab": {"a": "zero"}}}`, `invalid JSON: field "model.vocab" holds a string`},
		{`{"model": `, `invalid JSON at byte`},
	}
	for _, c := range cases {
		_, err := ParseHF([]byte(c.json), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseHF(%s) error = %v, want it to contain %q", c.json, err, c.want)
		}
	}
	// A base that loads fine, so the cases above fail for their own reason.
	if _, err := ParseHF([]byte(base+`}`), nil); err != nil {
		t.Errorf("base tokenizer: %v", err)
	}
}

// TestLossyUTF8 follows the WHATWG / Unicode "maximal subpart" rule, the
// one TextDecoder and Rust's from_utf8_lossy use (Python's
// bytes.decode("utf-8", "replace") gives the same strings).
func TestLossyUTF8(t *testing.T) {
	cases := []struct {
		in   []byte
		want string
	}{
		{[]byte("ok 中"), "ok 中"},
		{[]byte{0xE4, 0xB8, 'a'}, "\uFFFDa"}, // truncated 3-byte sequence: one U+FFFD
		{[]byte{0xE4, 'a'}, "\uFFFDa"},
		{[]byte{0xF0, 0x9F, 0x98}, "\uFFFD"},
		{[]byte{0xFF, 0xFE}, "\uFFFD\uFFFD"},
		{[]byte{0xED, 0xA0, 0x80}, "\uFFFD\uFFFD\uFFFD"}, // surrogate: ED accepts only 80..9F next
		{[]byte{0xE0, 0x80, 0x80}, "\uFFFD\uFFFD\uFFFD"}, // overlong
		{[]byte{0xC3}, "\uFFFD"},
		{[]byte("\uFFFD"), "\uFFFD"},
	}
	for _, c := range cases {
		if got := lossyUTF8(c.in); got != c.want {
			t.Errorf("lossyUTF8(% x) = %q, want %q", c.in, got, c.want)
		}
	}
	// Through the DeepSeek decoder: "ä" is the byte symbol of 0xE4 and "¸"
	// that of 0xB8, so these two tokens are the first two bytes of "中".
	h := loadDeepSeek(t)
	e4, ok1 := h.TokenID("ä")
	b8, ok2 := h.TokenID("¸")
	a, ok3 := h.TokenID("a")
	if !ok1 || !ok2 || !ok3 {
		t.Fatal("byte symbols missing from the DeepSeek vocabulary")
	}
	if got := h.Decode([]int{e4, b8, a}, false); got != "\uFFFDa" {
		t.Errorf("Decode(partial 中, a) = %q, want %q", got, "\uFFFDa")
	}
}

// TestHFConfigBOSRules follows Python transformers 4.57 on the DeepSeek-V3
// file (checked by hand with AutoTokenizer): Llama-family classes add BOS
// even when add_bos_token is absent; other classes ignore add_bos_token and
// keep the file's ByteLevel post-processor, which adds nothing.
func TestHFConfigBOSRules(t *testing.T) {
	files, err := deepSeekJSON()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		config string
		want   []int
	}{
		{`{"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<｜begin▁of▁sentence｜>"}`, []int{0, 6366}},
		{`{"tokenizer_class": "LlamaTokenizer", "bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>", "add_eos_token": true}`, []int{0, 6366, 1}},
		{`{"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": true, "bos_token": "<｜begin▁of▁sentence｜>"}`, []int{6366}},
		{`{"tokenizer_class": "GPT2TokenizerFast", "add_bos_token": true, "bos_token": "<｜begin▁of▁sentence｜>"}`, []int{6366}},
		{`{"add_bos_token": true, "bos_token": "<｜begin▁of▁sentence｜>"}`, []int{0, 6366}},
		{`{"bos_token": "<｜begin▁of▁sentence｜>"}`, []int{6366}},
	}
	base, err := ParseHF(files[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	// withConfig applies a tokenizer_config.json to a copy of base (parsing
	// the 7.8 MB file once per case would be slow).
	withConfig := func(config string) (*HF, error) {
		var cfg hfConfig
		if err := json.Unmarshal([]byte(config), &cfg); err != nil {
			return nil, err
		}
		h := *base
		return &h, h.applyConfig(&cfg)
	}
	for _, c := range cases {
		h, err := withConfig(c.config)
		if err != nil {
			t.Fatalf("config %s: %v", c.config, err)
		}
		if got := h.Encode("hi", true); !slices.Equal(got, c.want) {
			t.Errorf("config %s: Encode(hi, true) = %v, want %v", c.config, got, c.want)
		}
	}
	if _, err := withConfig(`{"tokenizer_class": "LlamaTokenizerFast"}`); err == nil || !strings.Contains(err.Error(), "bos_token is not set") {
		t.Errorf("Llama class without bos_token: error = %v", err)
	}
}
