package main

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diptych/gallery"
)

// fixtureFlags run both tiny fixtures fast on the CPU.
var fixtureFlags = []string{"--sdxl-dir", "testdata/sdxl/base", "--janus-dir", "testdata/janus/tiny",
	"--width", "64", "--height", "64", "--steps", "2", "--device", "cpu", "--quiet"}

func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cfg.Width, cfg.Height
}

func libraryGroup(t *testing.T, lib string) []gallery.Generation {
	t.Helper()
	st, err := gallery.Open(context.Background(), lib)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.List(context.Background(), gallery.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func TestCompareEndToEnd(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "pair.png")
	lib := filepath.Join(home, "library")
	args := append([]string{"compare", "--prompt", "a red fox in the snow", "--seed", "9", "--out", out, "--library", lib}, fixtureFlags...)
	code, stdout, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("compare exit %d: %s %s", code, stdout, errOut)
	}
	if !strings.Contains(errOut, "one after the other") {
		t.Errorf("--together auto on the CPU should say the models run one after the other: %q", errOut)
	}
	for _, want := range []string{"wrote " + out, "seed 9", "history group #1, compare", "SDXL", "base", "Janus-Pro", "tiny", "history #1", "history #2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// Two 64 px pictures in 160 px columns with 8 px margins.
	if w, h := pngSize(t, out); w != 8+2*168 || h < 64+4*16 {
		t.Fatalf("side-by-side is %dx%d", w, h)
	}
	rows := libraryGroup(t, lib)
	if len(rows) != 2 {
		t.Fatalf("%d history rows", len(rows))
	}
	engines := map[string]gallery.Generation{}
	for _, g := range rows {
		engines[g.Engine] = g
		if g.GroupID != 1 || g.Seed != 9 || g.Prompt != "a red fox in the snow" {
			t.Fatalf("row %+v", g)
		}
	}
	if engines["sdxl"].GroupIndex != 0 || engines["janus"].GroupIndex != 1 || engines["sdxl"].Steps != 2 {
		t.Fatalf("rows %+v", engines)
	}
}

func TestCompareHybridAndCritic(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "hybrid.png")
	lib := filepath.Join(home, "library")
	args := append([]string{"compare", "--prompt", "a lighthouse", "--seed", "3", "--hybrid", "--strength", "0.6", "--critic",
		"--out", out, "--library", lib}, fixtureFlags...)
	code, stdout, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("compare exit %d: %s %s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "hybrid") || !strings.Contains(stdout, "Janus -> SDXL") || strings.Count(stdout, "critic: ") != 3 {
		t.Fatalf("output:\n%s", stdout)
	}
	if w, _ := pngSize(t, out); w != 8+3*168 {
		t.Fatalf("sheet width %d, want three panels", w)
	}
	rows := libraryGroup(t, lib)
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	st, _ := gallery.Open(context.Background(), lib)
	defer st.Close()
	for _, g := range rows {
		full, err := st.Get(context.Background(), g.ID)
		if err != nil || len(full.Captions) != 2 {
			t.Fatalf("row %d captions %+v %v", g.ID, full.Captions, err)
		}
		if g.GroupIndex == 2 && g.Params["strength"] != 0.6 {
			t.Fatalf("refined strength %v", g.Params["strength"])
		}
	}
}

func TestCompareBadInput(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "x.png")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"compare", "--prompt", "  ", "--out", out}, 2, "--prompt is required"},
		{[]string{"compare", "--prompt", "p", "--out", filepath.Join(home, "x.jpg")}, 2, `expected a file name ending in .png`},
		{[]string{"compare", "--prompt", "p", "--model-dir", "testdata/sdxl/base"}, 2, "diptych compare: unknown flag: --model-dir"},
		{[]string{"compare", "--prompt", "p", "--strength", "0.4"}, 2, "--strength applies to --hybrid only"},
		{[]string{"compare", "--prompt", "p", "--hybrid", "--strength", "2"}, 2, "--strength 2: expected a value in (0, 1]"},
		{[]string{"compare", "--prompt", "p", "--sdxl-dir", filepath.Join(home, "nope"), "--janus-dir", "testdata/janus/tiny"}, 1,
			"--sdxl-dir: model folder " + filepath.Join(home, "nope")},
		{[]string{"compare", "--prompt", "p", "--sdxl-dir", "testdata/janus/tiny"}, 1, "--sdxl-dir: model folder testdata/janus/tiny holds a janus model, expected sdxl-base"},
		{[]string{"compare", "--prompt", "p", "--janus-dir", "testdata/janus/tiny"}, 1, "no sdxl-base model found in"},
		{[]string{"compare", "--prompt", "p", "extra"}, 2, `unexpected arguments ["extra"]`},
		{append([]string{"compare", "--prompt", "p", "--together", "maybe", "--out", out}, fixtureFlags...), 2, `--together "maybe": expected auto, on or off`},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a failed compare wrote its output")
	}
}

// The installed models are found through the settings' model folders.
func TestCompareFindsInstalledModels(t *testing.T) {
	home := isolate(t)
	wd, _ := os.Getwd()
	cfg := filepath.Join(home, "config", "diptych")
	os.MkdirAll(cfg, 0o755)
	settings := `{"model_dirs": ["` + filepath.Join(wd, "testdata/sdxl") + `", "` + filepath.Join(wd, "testdata/janus") + `"]}`
	if err := os.WriteFile(filepath.Join(cfg, "settings.json"), []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(home, "pair.png")
	code, stdout, errOut := runCLI(t, "compare", "--prompt", "a fox", "--seed", "1", "--width", "64", "--height", "64", "--steps", "1",
		"--device", "cpu", "--quiet", "--out", out, "--library", filepath.Join(home, "lib"))
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, " base ") || !strings.Contains(stdout, " tiny ") {
		t.Fatalf("output:\n%s", stdout)
	}
}

// A broken settings file is reported once per command, however many times
// the command reads the settings (compare reads them to find each model, the
// library and the runtime).
func TestBrokenSettingsWarnOnce(t *testing.T) {
	home := isolate(t)
	for _, dir := range []string{"testdata/sdxl/base", "testdata/janus/tiny"} {
		if code, _, errOut := runCLI(t, "models", "import", dir); code != 0 {
			t.Fatalf("models import %s: exit %d: %s", dir, code, errOut)
		}
	}
	cfg := filepath.Join(home, "config", "diptych")
	os.MkdirAll(cfg, 0o755)
	if err := os.WriteFile(filepath.Join(cfg, "settings.json"), []byte(`{"library": `), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := runCLI(t, "compare", "--prompt", "a fox", "--seed", "1", "--width", "64", "--height", "64",
		"--steps", "1", "--device", "cpu", "--quiet", "--out", filepath.Join(home, "pair.png"))
	if code != 0 {
		t.Fatalf("compare with broken settings: exit %d: %s %s", code, stdout, errOut)
	}
	if n := strings.Count(errOut, "settings.json"); n != 1 || !strings.Contains(errOut, "warning: ") || !strings.Contains(errOut, "(using defaults)") {
		t.Fatalf("want one warning about settings.json, got %d:\n%s", n, errOut)
	}
}
