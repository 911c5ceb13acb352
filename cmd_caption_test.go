package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCaptionCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"caption"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// TestCaptionCLI captions the Janus fixture image with the tiny model and
// must print transformers' greedy caption.
func TestCaptionCLI(t *testing.T) {
	refs := filepath.Join("testdata", "janus", "refs")
	b, err := os.ReadFile(filepath.Join(refs, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Caption struct {
			Question string `json:"question"`
			MaxNew   int    `json:"max_new_tokens"`
			Output   string `json:"generated_text"`
		} `json:"caption"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCaptionCLI(t, "--model-dir", filepath.Join("testdata", "janus", "tiny"),
		"--image", filepath.Join(refs, "caption_input.png"), "--question", m.Caption.Question,
		"--max-tokens", "12", "--device", "cpu", "--threads", "1", "-v")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != m.Caption.Output+"\n" {
		t.Fatalf("stdout %q, want %q", out, m.Caption.Output+"\n")
	}
	if !strings.Contains(errs, "12 answer tokens") || !strings.Contains(errs, "on cpu") {
		t.Fatalf("stderr: %s", errs)
	}
}

func TestCaptionCLIErrors(t *testing.T) {
	tiny := filepath.Join("testdata", "janus", "tiny")
	img := filepath.Join("testdata", "janus", "refs", "caption_input.png")
	junk := filepath.Join(t.TempDir(), "junk.png")
	os.WriteFile(junk, []byte("not an image at all"), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--image", img}, 2, "--model-dir is required"},
		{[]string{"--model-dir", tiny}, 2, "--image is required"},
		{[]string{"--model-dir", tiny, "--image", img, "--device", "tpu"}, 2, "expected auto, cpu, cuda"},
		{[]string{"--model-dir", tiny, "--image", img, "--max-tokens", "0"}, 2, "--max-tokens"},
		{[]string{"--model-dir", tiny, "--image", junk}, 1, "cannot decode"},
		{[]string{"--model-dir", tiny, "--image", "nope.png"}, 1, "nope.png"},
		{[]string{"--model-dir", t.TempDir(), "--image", img, "--device", "cpu"}, 1, "not an SDXL or Janus-Pro"},
	}
	for _, c := range cases {
		code, _, errs := runCaptionCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errs, c.code, c.want)
		}
	}
	code, out, _ := runCaptionCLI(t, "--help")
	if code != 0 || !strings.Contains(out, "--model-dir") || !strings.Contains(out, "--question") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}
