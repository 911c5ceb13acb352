package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diptych/gallery"
)

func TestSweepGridEndToEnd(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "sheet.png")
	lib := filepath.Join(home, "library")
	code, stdout, errOut := runCLI(t, "sweep", "--sdxl-dir", "testdata/sdxl/base", "--prompt", "a red fox", "--seed", "4",
		"--sizes", "64,96x64", "--steps", "1,2", "--device", "cpu", "--quiet", "--out", out, "--library", lib)
	if code != 0 {
		t.Fatalf("sweep exit %d: %s %s", code, stdout, errOut)
	}
	for _, want := range []string{"wrote " + out, "seed 4", "history group #1", "| 1 | 64x64 | 1 |", "| 4 | 96x64 | 2 |", "4 cells"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	table, err := os.ReadFile(filepath.Join(home, "sheet.md"))
	if err != nil || !strings.HasPrefix(string(table), "| # | size | steps | total s |") {
		t.Fatalf("table file: %v\n%s", err, table)
	}
	// Grid: the row labels column, two 160 px columns; two rows of 96 px
	// pictures under a title and the column labels.
	w, h := pngSize(t, out)
	if w != 8+len("64x64")*7+8+2*168 || h != 8+16+16+2*(96+4+2*16+8) {
		t.Fatalf("contact sheet %dx%d", w, h)
	}
	rows := libraryGroup(t, lib)
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, g := range rows {
		if g.GroupID != 1 || g.Seed != 4 {
			t.Fatalf("row %+v", g)
		}
	}
}

func TestSweepPairsWithCritic(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "pairs.png")
	code, stdout, errOut := runCLI(t, "sweep", "--sdxl-dir", "testdata/sdxl/base", "--janus-dir", "testdata/janus/tiny", "--critic",
		"--prompt", "a fox", "--seed", "2", "--pairs", "64:1,96x64:2", "--device", "cpu", "--quiet", "--out", out,
		"--library", filepath.Join(home, "lib"))
	if code != 0 {
		t.Fatalf("sweep exit %d: %s %s", code, stdout, errOut)
	}
	if strings.Count(stdout, "critic ") != 2 || !strings.Contains(stdout, "critic 96x64/2: ") {
		t.Fatalf("output:\n%s", stdout)
	}
	if w, _ := pngSize(t, out); w != 8+2*168 {
		t.Fatalf("pairs sheet width %d", w)
	}
}

func TestSweepBadInput(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "s.png")
	base := []string{"sweep", "--sdxl-dir", "testdata/sdxl/base", "--prompt", "p", "--out", out}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sweep", "--prompt", "p"}, 2, "--out FILE.png is required"},
		{[]string{"sweep", "--prompt", "", "--out", out}, 2, "--prompt is required"},
		{append(base, "--sizes", "64,abc"), 2, `--sizes "64,abc": size "abc" is not a number`},
		{append(base, "--sizes", "100"), 2, `size "100": each side must be a multiple of 8`},
		{append(base, "--steps", "0"), 2, `step count "0": expected a whole number from 1 to 1000`},
		{append(base, "--pairs", "64-2"), 2, `--pairs "64-2": "64-2" is not SIZE:STEPS`},
		{append(base, "--pairs", "64:2", "--sizes", "64"), 2, "give --pairs or --sizes/--steps, not both"},
		{append(base, "--model", "janus"), 2, "diptych sweep: unknown flag: --model"},
		{[]string{"sweep", "--sdxl-dir", filepath.Join(home, "none"), "--prompt", "p", "--out", out}, 1, filepath.Join(home, "none")},
		{append(base, "--critic", "--janus-dir", "testdata/sdxl/base"), 1, "holds a sdxl-base model, expected janus"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestSweepScoreGroupLater(t *testing.T) {
	home := isolate(t)
	lib := filepath.Join(home, "lib")
	code, stdout, errOut := runCLI(t, "sweep", "--sdxl-dir", "testdata/sdxl/base", "--prompt", "a fox", "--seed", "2",
		"--pairs", "64:1,64:2", "--device", "cpu", "--quiet", "--out", filepath.Join(home, "s.png"), "--library", lib)
	if code != 0 {
		t.Fatalf("sweep exit %d: %s %s", code, stdout, errOut)
	}
	code, stdout, errOut = runCLI(t, "sweep", "--score-group", "1", "--janus-dir", "testdata/janus/tiny", "--device", "cpu", "--library", lib)
	if code != 0 || !strings.Contains(stdout, "scored 2 images of group #1") || !strings.Contains(stdout, "#1: ") || !strings.Contains(stdout, "#2: ") {
		t.Fatalf("score exit %d:\n%s\n%s", code, stdout, errOut)
	}
	st, err := gallery.Open(context.Background(), lib)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range []int64{1, 2} {
		g, err := st.Get(context.Background(), id)
		if err != nil || len(g.Captions) != 2 {
			t.Fatalf("#%d captions %+v %v", id, g.Captions, err)
		}
	}
	code, _, errOut = runCLI(t, "sweep", "--score-group", "99", "--janus-dir", "testdata/janus/tiny", "--library", lib)
	if code != 1 || !strings.Contains(errOut, "group 99 has no generations") {
		t.Fatalf("missing group: exit %d %q", code, errOut)
	}
}
