package app

import (
	"context"
	"errors"
	"image"
	"image/color"
	"strings"
	"sync"
	"testing"
	"time"

	"diptych/engine/models"
	"diptych/gallery"
)

// The tiny fixtures make noise, fast: SDXL at 64×64 and Janus at 64×64.
const (
	sdxlFixture  = "../testdata/sdxl/base"
	janusFixture = "../testdata/janus/tiny"
)

// localEngine is the real ONNX Runtime engine (app/local, which this
// package cannot import: realengine_test.go, in package app_test, provides
// it through RealEngine).
func localEngine(t testing.TB) Engine {
	t.Helper()
	if RealEngine == nil {
		t.Fatal("no real engine: realengine_test.go did not set RealEngine")
	}
	e, closeFn, err := RealEngine()
	if err != nil {
		t.Fatalf("load runtime (run `make setup`): %v", err)
	}
	t.Cleanup(func() { closeFn() })
	return e
}

// RealEngine builds the real engine; set by package app_test.
var RealEngine func() (Engine, func() error, error)

func fixtureCompare(prompt string) CompareRequest {
	return CompareRequest{
		SDXL:       Request{ModelDir: sdxlFixture, Prompt: prompt, Seed: 7, Width: 64, Height: 64, Steps: 3, Scheduler: "euler", Guidance: 5},
		Janus:      Request{ModelDir: janusFixture, CFG: 5, Temperature: 1},
		AppVersion: "test",
	}
}

func groupRows(t *testing.T, lib *gallery.Store, id int64) []gallery.Generation {
	t.Helper()
	page, err := lib.List(context.Background(), gallery.Query{GroupID: id})
	if err != nil {
		t.Fatal(err)
	}
	rows := page.Items
	sortByGroupIndex(rows)
	return rows
}

func TestCompareRunsBothModelsAndStoresOnePair(t *testing.T) {
	ctx := context.Background()
	eng, lib := localEngine(t), openLibrary(t)
	var sides []string
	res, err := Compare(ctx, eng, lib, fixtureCompare("a red fox in the snow"), func(p CompareProgress) {
		if len(sides) == 0 || sides[len(sides)-1] != p.Side {
			sides = append(sides, p.Side)
		}
		if p.Sides != 2 {
			t.Errorf("progress says %d sides", p.Sides)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sides, ",") != SideSDXL+","+SideJanus {
		t.Fatalf("progress came from sides %v", sides)
	}
	if res.Group.Kind != gallery.GroupCompare || res.Group.ID == 0 {
		t.Fatalf("group %+v", res.Group)
	}
	rows := groupRows(t, lib, res.Group.ID)
	if len(rows) != 2 {
		t.Fatalf("group holds %d rows, want 2", len(rows))
	}
	for i, want := range []Model{ModelSDXL, ModelJanus} {
		g := rows[i]
		if g.GroupIndex != i || g.Engine != string(want) || g.Seed != 7 || g.Prompt != "a red fox in the snow" || g.Status != gallery.StatusOK {
			t.Fatalf("row %d: index %d engine %s seed %d prompt %q status %s", i, g.GroupIndex, g.Engine, g.Seed, g.Prompt, g.Status)
		}
		if g.Image == nil || g.Image.Width != 64 || g.Image.Height != 64 {
			t.Fatalf("row %d image %+v", i, g.Image)
		}
		if g.ID != res.Sides[i].Generation.ID {
			t.Fatalf("row %d id %d, side says %d", i, g.ID, res.Sides[i].Generation.ID)
		}
		if _, ok := stageTime(g.Timings, "total"); !ok || g.PeakMemoryBytes <= 0 || g.Device != "cpu" {
			t.Fatalf("row %d lacks time, memory or device: %+v %d %q", i, g.Timings, g.PeakMemoryBytes, g.Device)
		}
	}
	if rows[0].Model != "base" || rows[1].Model != "tiny" || rows[0].Steps != 3 {
		t.Fatalf("models %q %q steps %d", rows[0].Model, rows[1].Model, rows[0].Steps)
	}

	// The side-by-side: both pictures unscaled (64 px cells in 160 px
	// columns) with their settings printed under them.
	sheet := res.Sheet()
	top := 8 + 16
	for i, s := range res.Sides {
		x := 8 + i*168 + (160-64)/2
		for _, p := range []image.Point{{3, 5}, {40, 60}} {
			want := color.RGBAModel.Convert(s.Image.At(p.X, p.Y)).(color.RGBA)
			if got := sheet.RGBAAt(x+p.X, top+p.Y); got != want {
				t.Fatalf("side %d pixel %v: sheet %v, image %v", i, p, got, want)
			}
		}
	}
	lines := GenerationLines(SideSDXL, res.Sides[0].Generation)
	if lines[0] != "SDXL: base" || lines[1] != "64x64, 3 steps, euler, cfg 5, seed 7" ||
		!strings.Contains(lines[2], " s, peak ") || !strings.HasPrefix(lines[3], "cpu (") {
		t.Fatalf("SDXL lines %q", lines)
	}
	lines = GenerationLines(SideJanus, res.Sides[1].Generation)
	if lines[0] != "Janus-Pro: tiny" || lines[1] != "64x64, cfg 5, temp 1, seed 7" {
		t.Fatalf("Janus lines %q", lines)
	}
}

func TestCompareDrawsOneSeedForBoth(t *testing.T) {
	lib := openLibrary(t)
	req := fixtureCompare("a lighthouse")
	req.SDXL.Seed = -1
	res, err := Compare(context.Background(), &fakeEngine{}, lib, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := res.Sides[0].Generation.Seed, res.Sides[1].Generation.Seed
	if a != b || a == 0 || res.Sides[1].Request.Seed != res.Sides[0].Request.Seed {
		t.Fatalf("seeds %d and %d", a, b)
	}
}

func TestCompareFailedSideIsStoredAndTheOtherRuns(t *testing.T) {
	ctx := context.Background()
	lib := openLibrary(t)
	req := fixtureCompare("a cat")
	req.Janus.ModelDir = "broken" // fakeEngine fails it like a model that cannot load
	res, err := Compare(ctx, &fakeEngine{}, lib, req, nil)
	if err == nil || !strings.Contains(err.Error(), "Janus-Pro: load unet") {
		t.Fatalf("error %v, want the Janus side's load failure", err)
	}
	rows := groupRows(t, lib, res.Group.ID)
	if len(rows) != 2 || rows[0].Status != gallery.StatusOK || rows[1].Status != gallery.StatusFailed ||
		!strings.Contains(rows[1].Error, "no such file") || rows[1].Image != nil {
		t.Fatalf("rows %+v", rows)
	}
	sheet := res.Sheet()
	if sheet.RGBAAt(8+168+80, 8+16+30) != sheetEmpty {
		t.Fatal("the failed side is not an empty box")
	}
	if l := GenerationLines(SideJanus, res.Sides[1].Generation); !strings.HasPrefix(l[len(l)-1], "failed: load unet") {
		t.Fatalf("failed side lines %q", l)
	}
}

func TestCompareBadInput(t *testing.T) {
	ctx := context.Background()
	lib := openLibrary(t)
	for _, c := range []struct {
		name string
		edit func(*CompareRequest)
		want string
	}{
		{"empty prompt", func(r *CompareRequest) { r.SDXL.Prompt = "  " }, "prompt is empty"},
		{"no sdxl", func(r *CompareRequest) { r.SDXL.ModelDir = "" }, "no SDXL model folder"},
		{"no janus", func(r *CompareRequest) { r.Janus.ModelDir = "" }, "no Janus-Pro model folder"},
		{"strength", func(r *CompareRequest) { r.Hybrid, r.HybridStrength = true, 1.5 }, "strength 1.5: expected a value in (0, 1]"},
	} {
		r := fixtureCompare("p")
		c.edit(&r)
		if _, err := Compare(ctx, &fakeEngine{}, lib, r, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	page, _ := lib.List(ctx, gallery.Query{})
	if len(page.Items) != 0 {
		t.Fatalf("bad input stored %d rows", len(page.Items))
	}
}

func TestCompareWithCriticShowsAnswers(t *testing.T) {
	ctx := context.Background()
	lib := openLibrary(t)
	req := fixtureCompare("a red fox")
	d := &fakeDescriber{answer: "No.", caption: "A flat brown square."}
	req.Critic, req.CriticModel = d, "tiny"
	res, err := Compare(ctx, &fakeEngine{}, lib, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.questions) != 4 {
		t.Fatalf("critic asked %d questions, want 2 per side", len(d.questions))
	}
	for _, s := range res.Sides {
		if s.Critic == nil || s.Critic.Match != CriticNo {
			t.Fatalf("%s: verdict %+v", s.Label, s.Critic)
		}
		got, err := lib.Get(ctx, s.Generation.ID)
		if err != nil || len(got.Captions) != 2 {
			t.Fatalf("%s: stored captions %+v %v", s.Label, got.Captions, err)
		}
		if l := strings.Join(GenerationLines(s.Label, s.Generation), "|"); !strings.Contains(l, "critic: no (No.)") {
			t.Fatalf("%s lines %s", s.Label, l)
		}
	}
}

func TestFindModelDir(t *testing.T) {
	dir, err := FindModelDir(nil, []string{"../testdata/sdxl", "../testdata/janus"}, models.KindJanus)
	if err != nil || !strings.HasSuffix(dir, "janus/tiny") {
		t.Fatalf("janus: %q %v", dir, err)
	}
	if _, err := FindModelDir(nil, []string{"../testdata/janus"}, models.KindSDXLBase); err == nil ||
		!strings.Contains(err.Error(), "no sdxl-base model found in ../testdata/janus") {
		t.Fatalf("missing kind: %v", err)
	}
	if err := CheckModelDir(janusFixture, models.KindSDXLBase); err == nil || !strings.Contains(err.Error(), "holds a janus model, expected sdxl-base") {
		t.Fatalf("wrong kind: %v", err)
	}
	if err := CheckModelDir("/no/such/model", models.KindSDXLBase); err == nil || !strings.Contains(err.Error(), "/no/such/model") {
		t.Fatalf("missing folder: %v", err)
	}
	if err := CheckModelDir(sdxlFixture, models.KindSDXLBase); err != nil {
		t.Fatal(err)
	}
}

// barrierEngine's Generate returns only once two calls are in flight, so a
// compare that runs its sides one after the other times out.
type barrierEngine struct {
	mu      sync.Mutex
	arrived int
	both    chan struct{}
}

func (b *barrierEngine) Generate(ctx context.Context, req Request, _ func(Progress)) (Result, error) {
	b.mu.Lock()
	b.arrived++
	if b.arrived == 2 {
		close(b.both)
	}
	b.mu.Unlock()
	select {
	case <-b.both:
	case <-time.After(10 * time.Second):
		return Result{}, errors.New("the other side never started: not run together")
	}
	return Result{Images: []image.Image{image.NewRGBA(image.Rect(0, 0, 8, 8))}, Seed: req.Seed}, nil
}

func TestCompareTogetherRunsBothSidesAtOnce(t *testing.T) {
	lib := openLibrary(t)
	eng := &barrierEngine{both: make(chan struct{})}
	res, err := Compare(context.Background(), eng, lib, CompareRequest{
		SDXL:  Request{Prompt: "a paper crane", ModelDir: "sdxl", Seed: 9},
		Janus: Request{ModelDir: "janus"}, Together: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sides) != 2 || res.Sides[0].Label != SideSDXL || res.Sides[1].Label != SideJanus ||
		res.Sides[0].Generation.GroupIndex != 0 || res.Sides[1].Generation.GroupIndex != 1 {
		t.Fatalf("sides stored out of order: %+v", res.Sides)
	}
	if res.Sides[1].Generation.Params["ran_together"] != true {
		t.Fatalf("params = %v", res.Sides[1].Generation.Params)
	}
}
