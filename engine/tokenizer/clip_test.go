package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const clipTestdata = "testdata/clip"

// clipDir assembles an SDXL-style tokenizer folder (vocab.json, merges.txt
// and the config JSONs of sub) in a temporary directory.
func clipDir(t testing.TB, sub string) string {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(src string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(clipTestdata, "vocab.json"))
	copyFile(filepath.Join(clipTestdata, "merges.txt"))
	if sub != "" {
		for _, f := range []string{"special_tokens_map.json", "tokenizer_config.json"} {
			copyFile(filepath.Join(clipTestdata, sub, f))
		}
	}
	return dir
}

func loadCLIP(t testing.TB, sub string) *CLIP {
	t.Helper()
	c, err := LoadCLIP(clipDir(t, sub))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type clipGolden struct {
	PadIDs map[string]int `json:"pad_ids"`
	Cases  []struct {
		Prompt  string        `json:"prompt"`
		Decoded string        `json:"decoded"`
		T1      clipGoldenIDs `json:"tokenizer"`
		T2      clipGoldenIDs `json:"tokenizer_2"`
	} `json:"cases"`
}

type clipGoldenIDs struct {
	IDs       []int   `json:"ids"`
	Padded77  []int64 `json:"padded77"`
	Truncated bool    `json:"truncated"`
}

func loadClipGolden(t *testing.T) *clipGolden {
	t.Helper()
	path := filepath.Join(clipTestdata, "golden.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with tools/ref_clip_tokens.py)", err)
	}
	var g clipGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(g.Cases) < 50 {
		t.Fatalf("%s: only %d cases", path, len(g.Cases))
	}
	return &g
}

func TestCLIPGolden(t *testing.T) {
	g := loadClipGolden(t)
	toks := map[string]*CLIP{"tokenizer": loadCLIP(t, "tokenizer"), "tokenizer_2": loadCLIP(t, "tokenizer_2")}
	for name, c := range toks {
		if c.PadID() != g.PadIDs[name] {
			t.Errorf("%s: PadID = %d, want %d", name, c.PadID(), g.PadIDs[name])
		}
	}
	failed := 0
	for _, tc := range g.Cases {
		for name, want := range map[string]clipGoldenIDs{"tokenizer": tc.T1, "tokenizer_2": tc.T2} {
			c := toks[name]
			ids := c.Encode(tc.Prompt)
			padded, trunc := c.EncodePadded(tc.Prompt, 77)
			if !reflect.DeepEqual(ids, want.IDs) || !reflect.DeepEqual(padded, want.Padded77) || trunc != want.Truncated {
				failed++
				t.Errorf("%s %q:\n got  %v (padded %v, truncated %v)\n want %v (padded %v, truncated %v)",
					name, tc.Prompt, ids, padded, trunc, want.IDs, want.Padded77, want.Truncated)
			}
		}
		// Decode is compared where the content holds no special ids.
		content := tc.T1.IDs[1 : len(tc.T1.IDs)-1]
		special := false
		for _, id := range content {
			special = special || id == 49406 || id == 49407
		}
		if !special {
			if got := toks["tokenizer"].Decode(tc.T1.IDs); got != tc.Decoded {
				t.Errorf("Decode(%q) = %q, want %q", tc.Prompt, got, tc.Decoded)
			}
		}
	}
	if failed > 0 {
		t.Logf("%d of %d encodings differ", failed, 2*len(g.Cases))
	}
}

// TestCLIPKnownVectors checks ids published outside this repository
// (openai/CLIP, elixir-nx/bumblebee, transformers docs).
func TestCLIPKnownVectors(t *testing.T) {
	c := loadCLIP(t, "tokenizer")
	for prompt, want := range map[string][]int{
		"a photo of a cat":                  {49406, 320, 1125, 539, 320, 2368, 49407},
		"Hello, world!":                     {49406, 3306, 267, 1002, 256, 49407},
		"An astronaut riding a green horse": {49406, 550, 18376, 6765, 320, 1901, 4558, 49407},
		"":                                  {49406, 49407},
	} {
		if got := c.Encode(prompt); !reflect.DeepEqual(got, want) {
			t.Errorf("Encode(%q) = %v, want %v", prompt, got, want)
		}
	}
}

func TestCLIPPadding(t *testing.T) {
	c1, c2 := loadCLIP(t, "tokenizer"), loadCLIP(t, "tokenizer_2")
	if c1.PadID() != 49407 || c2.PadID() != 0 || c1.BOS() != 49406 || c1.EOS() != 49407 || c1.MaxLength() != 77 {
		t.Fatalf("ids: pad %d/%d bos %d eos %d max %d", c1.PadID(), c2.PadID(), c1.BOS(), c1.EOS(), c1.MaxLength())
	}
	ids, trunc := c2.EncodePadded("a photo of a cat", 77)
	if len(ids) != 77 || trunc || ids[6] != 49407 || ids[7] != 0 || ids[76] != 0 {
		t.Errorf("tokenizer_2 padded = %v", ids)
	}
	long := strings.Repeat("cat ", 100)
	ids, trunc = c1.EncodePadded(long, 77)
	if len(ids) != 77 || !trunc || ids[0] != 49406 || ids[76] != 49407 {
		t.Errorf("long prompt: truncated %v, ids %v", trunc, ids)
	}
	if ids, _ := c1.EncodePadded("cat", 0); len(ids) != 2 {
		t.Errorf("maxLen 0: %v", ids)
	}
	// Without config files the pad defaults to <|endoftext|>.
	if c := loadCLIP(t, ""); c.PadID() != 49407 || c.VocabSize() != 49408 {
		t.Errorf("defaults: pad %d vocab %d", c.PadID(), c.VocabSize())
	}
}

func TestCLIPLoadErrors(t *testing.T) {
	write := func(dir, name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		mutate func(dir string)
		want   []string // substrings of the error
	}{
		{"missing vocab", func(d string) { os.Remove(filepath.Join(d, "vocab.json")) }, []string{"vocab.json", "no such file"}},
		{"corrupt vocab", func(d string) { write(d, "vocab.json", `{"a": 1,`) }, []string{"vocab.json", "JSON"}},
		{"empty vocab", func(d string) { write(d, "vocab.json", `{}`) }, []string{"vocab.json", "empty"}},
		{"missing merges", func(d string) { os.Remove(filepath.Join(d, "merges.txt")) }, []string{"merges.txt", "no such file"}},
		{"no header", func(d string) { write(d, "merges.txt", "a b\nc d\n") }, []string{"merges.txt", "#version"}},
		{"bad merge line", func(d string) { write(d, "merges.txt", "#version: 0.2\na b\nc d e\n") }, []string{"merges.txt", "line 3"}},
		{"header only", func(d string) { write(d, "merges.txt", "#version: 0.2\n") }, []string{"merges.txt", "no merges"}},
		{"corrupt config", func(d string) { write(d, "special_tokens_map.json", `[1,`) }, []string{"special_tokens_map.json"}},
		{"bad pad field", func(d string) { write(d, "special_tokens_map.json", `{"pad_token": 5}`) }, []string{"special_tokens_map.json", "pad_token"}},
		{"unknown pad", func(d string) { write(d, "special_tokens_map.json", `{"pad_token": "<pad>"}`) }, []string{"pad", "<pad>", "vocab.json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := clipDir(t, "tokenizer")
			tc.mutate(dir)
			_, err := LoadCLIP(dir)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCLIPConcurrent(t *testing.T) {
	c := loadCLIP(t, "tokenizer")
	want := c.Encode("a majestic lion jumping from a big stone at night")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if got := c.Encode("a majestic lion jumping from a big stone at night"); !reflect.DeepEqual(got, want) {
					t.Errorf("concurrent Encode = %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkCLIPEncode(b *testing.B) {
	c := loadCLIP(b, "tokenizer")
	prompt := "Astronaut in a jungle, cold color palette, muted colors, detailed, 8k, trending on artstation"
	for b.Loop() {
		c.EncodePadded(prompt, 77)
	}
}

func BenchmarkCLIPEncodeUncached(b *testing.B) {
	c := loadCLIP(b, "tokenizer")
	prompt := "Astronaut in a jungle, cold color palette, muted colors, detailed, 8k, trending on artstation"
	for b.Loop() {
		clear(c.cache)
		c.EncodePadded(prompt, 77)
	}
}

func BenchmarkLoadCLIP(b *testing.B) {
	dir := clipDir(b, "tokenizer")
	for b.Loop() {
		if _, err := LoadCLIP(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCLIPEncode checks invariants on arbitrary input (including invalid
// UTF-8): no panic, BOS/EOS framing, exact padded length.
func FuzzCLIPEncode(f *testing.F) {
	c := loadCLIP(f, "tokenizer_2")
	for _, s := range []string{"", "a photo of a cat", "\xff\xfe broken", "<|endoftext|>!!", "ΣΣΣ İİ", strings.Repeat("ab ", 60)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := c.Encode(s)
		if len(ids) < 2 || ids[0] != c.BOS() || ids[len(ids)-1] != c.EOS() {
			t.Fatalf("Encode(%q) = %v", s, ids)
		}
		padded, trunc := c.EncodePadded(s, 77)
		if len(padded) != 77 || padded[0] != int64(c.BOS()) || trunc != (len(ids) > 77) {
			t.Fatalf("EncodePadded(%q) = %v, %v", s, padded, trunc)
		}
		_ = c.Decode(ids)
	})
}
