package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchEndToEnd(t *testing.T) {
	home := isolate(t)
	dir := filepath.Join(home, "report")
	code, stdout, errOut := runCLI(t, "bench", "--sdxl-dir", "testdata/sdxl/base", "--janus-dir", "testdata/janus/tiny",
		"--pairs", "64:1,64:3,96x64:2", "--runs", "2", "--device", "cpu", "--quiet", "--out", dir)
	if code != 0 {
		t.Fatalf("bench exit %d: %s %s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "| sdxl | 64x64 | 3 | 2 |") || !strings.Contains(stdout, "| janus | 64x64 | - | 2 |") {
		t.Fatalf("output:\n%s", stdout)
	}
	for _, f := range []string{"report.md", "report.csv", "report.json", "chart.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	var rep struct {
		Rows []struct {
			Model     string  `json:"model"`
			Width     int     `json:"width"`
			Height    int     `json:"height"`
			Steps     int     `json:"steps"`
			Runs      int     `json:"runs"`
			MeanS     float64 `json:"mean_s"`
			PeakRSSMB int64   `json:"peak_rss_mb"`
			Device    string  `json:"device"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 4 {
		t.Fatalf("%d rows", len(rep.Rows))
	}
	want := [][3]int{{64, 64, 1}, {64, 64, 3}, {96, 64, 2}, {64, 64, 0}}
	for i, r := range rep.Rows {
		if r.Width != want[i][0] || r.Height != want[i][1] || r.Steps != want[i][2] || r.Runs != 2 || r.MeanS <= 0 || r.PeakRSSMB <= 0 || r.Device != "cpu" {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	if w, h := pngSize(t, filepath.Join(dir, "chart.png")); w != 800 || h != 500 {
		t.Fatalf("chart %dx%d", w, h)
	}
	// A benchmark keeps nothing in the history.
	if _, err := os.Stat(filepath.Join(home, "diptych", "library")); err == nil {
		t.Fatal("bench created a library")
	}
}

func TestBenchSkipsAMissingDefaultModel(t *testing.T) {
	home := isolate(t)
	code, stdout, errOut := runCLI(t, "bench", "--sdxl-dir", "testdata/sdxl/base", "--pairs", "64:1", "--runs", "1",
		"--warmup", "0", "--device", "cpu", "--quiet", "--out", filepath.Join(home, "r"))
	if code != 0 {
		t.Fatalf("bench exit %d: %s %s", code, stdout, errOut)
	}
	if !strings.Contains(errOut, "skipping janus: no janus model found") || strings.Contains(stdout, "| janus |") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", stdout, errOut)
	}
}

func TestBenchBadInput(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "r")
	base := []string{"bench", "--sdxl-dir", "testdata/sdxl/base", "--out", out}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench"}, 2, "--out DIR is required"},
		{append(base, "--runs", "0"), 2, "--runs 0: expected 1 to 1000"},
		{append(base, "--warmup", "-1"), 2, "--warmup -1: expected 0 to 100"},
		{append(base, "--models", "sdxl,flux"), 2, `unknown model "flux"`},
		{append(base, "--sizes", "12"), 2, `size "12": each side must be a multiple of 8`},
		{append(base, "--prompt", " "), 2, "--prompt must not be empty"},
		{append(base, "--models", "janus"), 1, "no janus model found"},
		{[]string{"bench", "--sdxl-dir", filepath.Join(home, "none"), "--out", out}, 1, filepath.Join(home, "none")},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a failed bench wrote its folder")
	}
}
