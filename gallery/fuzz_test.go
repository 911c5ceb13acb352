package gallery

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets: `go test -tags sqlite_fts5 -fuzz FuzzX ./gallery/`. A plain
// `go test` runs their seed corpora only.

func addSampleFiles(f *testing.F) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "import", "*.png"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzReadPNGText: any bytes give chunks or an error, never a crash, and
// every chunk returned is valid UTF-8 with a sane keyword.
func FuzzReadPNGText(f *testing.F) {
	addSampleFiles(f)
	f.Add([]byte{})
	f.Add(pngSignature)
	f.Fuzz(func(t *testing.T, data []byte) {
		chunks, _ := ReadPNGText(bytes.NewReader(data))
		for _, c := range chunks {
			if !utf8.ValidString(c.Text) || !utf8.ValidString(c.Keyword) || c.Keyword == "" || len(c.Keyword) > 2*maxKeywordLen {
				t.Fatalf("bad chunk %q", c.Keyword)
			}
		}
	})
}

// FuzzParseA1111: parsing never fails, and once a text has been through
// one parse/format round (which, as in A1111, drops surrounding spaces of
// values and lines) further rounds change nothing.
func FuzzParseA1111(f *testing.F) {
	f.Add(docExample)
	f.Add("a\nNegative prompt: b\nSteps: 1, Sampler: Euler, Seed: 2")
	f.Add(`p` + "\n" + `Steps: 1, Lora hashes: "a: 1, b: 2", Seed: 3, X: "\"`)
	f.Add("Negative prompt:\n\n\nSteps: ,,,:::\"\"\"")
	f.Fuzz(func(t *testing.T, text string) {
		info := ParseA1111(text)
		_ = generationFromA1111(info)
		for _, p := range info.Params {
			if p.Key == "" || strings.TrimSpace(p.Key[:1]) == "" {
				t.Fatalf("bad key %q", p.Key)
			}
		}
		once := FormatA1111(ParseA1111(FormatA1111(info)))
		if twice := FormatA1111(ParseA1111(once)); twice != once {
			t.Fatalf("format/parse not stable:\n%q\n%q", once, twice)
		}
	})
}

// FuzzA1111Generation: text we write for any prompt and settings parses back
// to the same prompt, seed and sampler.
func FuzzA1111Generation(f *testing.F) {
	f.Add("a fox", "blurry", uint64(42), 30, "dpmpp_2m_karras", 7.5)
	f.Add("line1\nline2, with: colon", "", uint64(0), 0, "euler_a", 0.0)
	f.Fuzz(func(t *testing.T, prompt, negative string, seed uint64, steps int, sched string, cfg float64) {
		// A1111 trims each line and drops leading blank lines; compare the
		// normal form, which is what it keeps too.
		norm := func(s string) string {
			var lines []string
			for _, l := range strings.Split(s, "\n") {
				lines = append(lines, strings.TrimSpace(l))
			}
			return strings.TrimLeft(strings.Join(lines, "\n"), "\n")
		}
		if !utf8.ValidString(prompt) || !utf8.ValidString(negative) || strings.ContainsAny(prompt+negative, "\r\x00") ||
			norm(prompt) != prompt || norm(negative) != negative || prompt == "" ||
			strings.HasPrefix(prompt, "Negative prompt:") || strings.Contains(prompt, "\nNegative prompt:") ||
			strings.TrimRight(negative, "\n") != negative || strings.TrimRight(prompt, "\n") != prompt ||
			len(reA1111Param.FindAllString(lastLine(prompt), 3)) >= 3 || len(reA1111Param.FindAllString(lastLine(negative), 3)) >= 3 {
			t.Skip()
		}
		if _, ok := samplerLabels[sched]; !ok {
			sched = "euler"
		}
		g := Generation{Prompt: prompt, NegativePrompt: negative, Seed: seed, Steps: max(steps, 1), Scheduler: sched, Guidance: cfg, Model: "m"}
		back := generationFromA1111(ParseA1111(FormatA1111(A1111FromGeneration(g))))
		if back.Prompt != prompt || back.NegativePrompt != negative || back.Seed != seed || back.Scheduler != sched {
			t.Fatalf("round trip: %q/%q/%d/%s -> %q/%q/%d/%s", prompt, negative, seed, sched,
				back.Prompt, back.NegativePrompt, back.Seed, back.Scheduler)
		}
	})
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// FuzzParseMetadata: hostile chunk contents never crash the importers.
func FuzzParseMetadata(f *testing.F) {
	for _, kw := range []string{"parameters", "prompt", "invokeai_metadata", "diptych", "workflow"} {
		f.Add(kw, "{}")
	}
	f.Add("prompt", `{"1":{"class_type":"KSampler","inputs":{"seed":["1",0],"positive":["1",0],"latent_image":["1",0]}}}`)
	f.Add("parameters", `{"sui_image_params":{"prompt":"x","seed":1e300}}`)
	f.Add("parameters", `{"resolution":"(1, 2)","seed":"-5","steps":1e99}`)
	f.Add("invokeai_metadata", `{"model":{"name":5},"seed":-1,"width":"big"}`)
	f.Fuzz(func(t *testing.T, keyword, text string) {
		g, src := ParseMetadata([]TextChunk{{Keyword: keyword, Text: text}})
		if src == "" || g.Width < 0 || g.Height < 0 || g.Steps < 0 {
			t.Fatalf("source %q size %dx%d steps %d", src, g.Width, g.Height, g.Steps)
		}
	})
}

// FuzzSetPNGText: writing text into any bytes either fails cleanly or gives
// a file whose text reads back exactly.
func FuzzSetPNGText(f *testing.F) {
	var buf bytes.Buffer
	buf.Write(encodePNGForFuzz())
	f.Add(buf.Bytes(), "parameters", "a fox\nSteps: 1")
	f.Add(buf.Bytes(), "k", "☕")
	f.Add([]byte("junk"), "k", "v")
	f.Fuzz(func(t *testing.T, data []byte, keyword, text string) {
		out, err := SetPNGText(data, []TextChunk{{Keyword: keyword, Text: text}})
		if err != nil {
			return
		}
		chunks, err := ReadPNGText(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("our output does not read back: %v", err)
		}
		if len(chunks) != 1 || chunks[0].Keyword != keyword || chunks[0].Text != text {
			t.Fatalf("read back %+v, wrote %q=%q", chunks, keyword, text)
		}
	})
}

func encodePNGForFuzz() []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage(4, 4, 1)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// FuzzFTSQuery: whatever a user types, the search runs without an SQLite
// syntax error.
func FuzzFTSQuery(f *testing.F) {
	for _, s := range []string{`"`, `a AND`, `(x OR`, `NOT`, `*`, `col:val`, `^start`, `NEAR(a b)`, `a"b`, `-x +y`, `日本`, "e\u0301"} {
		f.Add(s)
	}
	s, err := Open(context.Background(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Save(context.Background(), SaveRequest{Generation: Generation{Prompt: "a NEAR fox AND OR NOT"}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := s.List(context.Background(), Query{Text: text}); err != nil {
			t.Fatalf("search %q: %v", text, err)
		}
	})
}
