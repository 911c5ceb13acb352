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
