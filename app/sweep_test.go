package app

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"diptych/gallery"
)

func TestParseSizesStepsPairs(t *testing.T) {
	sizes, err := ParseSizes("256, 512,832x1216")
	if err != nil || !reflect.DeepEqual(sizes, []Size{{256, 256}, {512, 512}, {832, 1216}}) {
		t.Fatalf("sizes %v %v", sizes, err)
	}
	steps, err := ParseSteps("20,50,100")
	if err != nil || !reflect.DeepEqual(steps, []int{20, 50, 100}) {
		t.Fatalf("steps %v %v", steps, err)
	}
	pairs, err := ParsePairs("256:20,512:50,1024x768:30")
	if err != nil || !reflect.DeepEqual(pairs, []SweepPoint{{256, 256, 20}, {512, 512, 50}, {1024, 768, 30}}) {
		t.Fatalf("pairs %v %v", pairs, err)
	}
	if !reflect.DeepEqual(ClassicPairs(), []SweepPoint{{256, 256, 20}, {512, 512, 50}, {768, 768, 100}}) {
		t.Fatalf("classic pairs %v", ClassicPairs())
	}
	for _, c := range []struct {
		parse func() error
		want  string
	}{
		{func() error { _, err := ParseSizes("256,abc"); return err }, `size "abc" is not a number`},
		{func() error { _, err := ParseSizes("250"); return err }, `size "250": each side must be a multiple of 8 from 8 to 4096`},
		{func() error { _, err := ParseSizes("8192"); return err }, `multiple of 8 from 8 to 4096`},
		{func() error { _, err := ParseSizes("512xq"); return err }, `size "512xq" is not WIDTHxHEIGHT`},
		{func() error { _, err := ParseSizes(" , "); return err }, `expected a comma-separated list`},
		{func() error { _, err := ParseSteps("20,0"); return err }, `step count "0": expected a whole number from 1 to 1000`},
		{func() error { _, err := ParseSteps("2.5"); return err }, `step count "2.5"`},
		{func() error { _, err := ParsePairs("256-20"); return err }, `"256-20" is not SIZE:STEPS`},
		{func() error { _, err := ParsePairs("256:x"); return err }, `step count "x"`},
		{func() error { _, err := ParsePairs("100:20"); return err }, `size "100": each side must be a multiple of 8`},
	} {
		if err := c.parse(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestPlans(t *testing.T) {
	g := GridPlan([]Size{{256, 256}, {512, 512}}, []int{20, 50, 100})
	if len(g.Points) != 6 || g.Columns != 3 || !g.Grid || g.Points[3] != (SweepPoint{512, 512, 20}) ||
		!reflect.DeepEqual(g.RowLabels, []string{"256x256", "512x512"}) || g.ColLabels[2] != "100 steps" {
		t.Fatalf("grid %+v", g)
	}
	p := PairsPlan(ClassicPairs())
	if len(p.Points) != 3 || p.Columns != 3 || p.Grid {
		t.Fatalf("pairs %+v", p)
	}
}

func TestSweepRealSDXLStoresOneGroup(t *testing.T) {
	ctx := context.Background()
	eng, lib := localEngine(t), openLibrary(t)
	base := Request{ModelDir: sdxlFixture, Prompt: "a red fox", Seed: 11, Scheduler: "euler", Guidance: 5}
	plan := GridPlan([]Size{{64, 64}, {96, 64}}, []int{1, 2})
	var cells []int
	res, err := Sweep(ctx, eng, lib, SweepRequest{Base: base, Plan: plan, AppVersion: "test", Warmup: true}, func(p SweepProgress) {
		if len(cells) == 0 || cells[len(cells)-1] != p.Cell {
			cells = append(cells, p.Cell)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cells, []int{-1, 0, 1, 2, 3}) {
		t.Fatalf("progress cells %v", cells)
	}
	if res.Group.Kind != gallery.GroupSweep {
		t.Fatalf("group %+v", res.Group)
	}
	rows := groupRows(t, lib, res.Group.ID)
	if len(rows) != 4 {
		t.Fatalf("group holds %d rows", len(rows))
	}
	for i, g := range rows {
		pt := plan.Points[i]
		if g.GroupIndex != i || g.Width != pt.Width || g.Height != pt.Height || g.Steps != pt.Steps || g.Seed != 11 || g.Status != gallery.StatusOK {
			t.Fatalf("row %d: %dx%d/%d seed %d status %s, want %v", i, g.Width, g.Height, g.Steps, g.Seed, g.Status, pt)
		}
		if g.Image == nil || g.Image.Width != pt.Width {
			t.Fatalf("row %d image %+v", i, g.Image)
		}
	}
	// Contact sheet: labels column, 2 columns of 160 px, 2 rows of 96 px
	// pictures with two text lines each, title and column labels.
	sheet := res.Sheet()
	labelW := len("64x64")*7 + 8
	wantW := 8 + labelW + 2*168
	wantH := 8 + 16 + 16 + 2*(96+4+2*16+8)
	if b := sheet.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("sheet %v, want %dx%d", b, wantW, wantH)
	}
	table := res.Table()
	if n := strings.Count(table, "\n| "); n != 4 || !strings.Contains(table, "| 4 | 96x64 | 2 | ") || !strings.Contains(table, "4 cells, ") {
		t.Fatalf("table:\n%s", table)
	}
}

func TestSweepTableFormat(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	r := SweepResult{Cells: []SweepCell{
		{Point: SweepPoint{256, 256, 20}, Result: Result{Total: ms(2500), PeakRSSMB: 900, Timings: []StageTiming{
			{Stage: "text_encoders", Duration: ms(100)}, {Stage: "denoise", Duration: ms(2000)}, {Stage: "vae_decoder", Duration: ms(400)}}}},
		{Point: SweepPoint{512, 512, 50}, Result: Result{Total: ms(12250), PeakRSSMB: 1400, PeakGPUMB: 7000, Timings: []StageTiming{
			{Stage: "text_encoders", Duration: ms(250)}, {Stage: "denoise", Duration: ms(11000)}, {Stage: "vae_decoder", Duration: ms(1000)}}}},
		{Point: SweepPoint{768, 768, 100}, Err: errors.New("sdxl: out of memory | in unet")},
	}}
	want := `| # | size | steps | total s | text s | denoise s | s/step | vae s | peak RSS MB | peak GPU MB | status |
|--:|-----:|------:|--------:|-------:|----------:|-------:|------:|------------:|------------:|--------|
| 1 | 256x256 | 20 | 2.500 | 0.100 | 2.000 | 0.1000 | 0.400 | 900 | - | ok |
| 2 | 512x512 | 50 | 12.250 | 0.250 | 11.000 | 0.2200 | 1.000 | 1400 | 7000 | ok |
| 3 | 768x768 | 100 | - | - | - | - | - | 0 | - | failed: sdxl: out of memory / in unet |

3 cells, 14.750 s in all
`
	if got := r.Table(); got != want {
		t.Fatalf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestSweepFailuresAndBadInput(t *testing.T) {
	ctx := context.Background()
	lib := openLibrary(t)
	plan := PairsPlan([]SweepPoint{{64, 64, 2}, {128, 128, 2}})
	for _, c := range []struct {
		base Request
		plan SweepPlan
		want string
	}{
		{Request{ModelDir: "x", Prompt: ""}, plan, "prompt is empty"},
		{Request{Model: ModelJanus, ModelDir: "x", Prompt: "p"}, plan, `model "janus" has no size or step axis`},
		{Request{Prompt: "p"}, plan, "no SDXL model folder"},
		{Request{ModelDir: "x", Prompt: "p"}, SweepPlan{}, "no points"},
	} {
		if _, err := Sweep(ctx, &fakeEngine{}, lib, SweepRequest{Base: c.base, Plan: c.plan}, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	// A model that cannot load fails every cell; each is stored as failed.
	res, err := Sweep(ctx, &fakeEngine{}, lib, SweepRequest{Base: Request{ModelDir: "broken", Prompt: "p", Seed: 1}, Plan: plan}, nil)
	if err == nil || !strings.Contains(err.Error(), "64x64/2: load unet") || !strings.Contains(err.Error(), "128x128/2: load unet") {
		t.Fatalf("error %v", err)
	}
	rows := groupRows(t, lib, res.Group.ID)
	if len(rows) != 2 || rows[0].Status != gallery.StatusFailed || rows[1].Status != gallery.StatusFailed {
		t.Fatalf("rows %+v", rows)
	}
}

func TestSweepCriticScoresEveryImageAndCritiqueGroup(t *testing.T) {
	ctx := context.Background()
	lib := openLibrary(t)
	d := &fakeDescriber{answer: "Yes", caption: "A flat square of colour."}
	plan := PairsPlan([]SweepPoint{{64, 64, 2}, {96, 96, 3}, {128, 128, 4}})
	res, err := Sweep(ctx, &fakeEngine{}, lib, SweepRequest{Base: Request{ModelDir: "sdxl", Prompt: "a fox", Seed: 2},
		Plan: plan, Critic: d, CriticModel: "tiny"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cells {
		if c.Critic == nil || c.Critic.Match != CriticYes {
			t.Fatalf("%v: verdict %+v", c.Point, c.Critic)
		}
	}
	// The batch form over the stored group asks again, in group order.
	d2 := &fakeDescriber{answer: "no", caption: "noise"}
	vs, err := CritiqueGroup(ctx, d2, lib, res.Group.ID, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || vs[0].GenerationID != res.Cells[0].Generation.ID || vs[2].GenerationID != res.Cells[2].Generation.ID || vs[1].Match != CriticNo {
		t.Fatalf("verdicts %+v", vs)
	}
	got, _ := lib.Get(ctx, res.Cells[1].Generation.ID)
	if len(got.Captions) != 4 {
		t.Fatalf("cell 1 has %d captions, want 2 from the sweep and 2 from the batch", len(got.Captions))
	}
	if _, err := CritiqueGroup(ctx, d2, lib, 999, "tiny"); err == nil || !strings.Contains(err.Error(), "group 999 has no generations") {
		t.Fatalf("empty group: %v", err)
	}
}
