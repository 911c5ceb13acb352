package app

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"strings"
	"sync"
	"testing"

	"diptych/gallery"
)

func TestHybridRealEnginesStoresDraftRefinedAndPlain(t *testing.T) {
	ctx := context.Background()
	eng, lib := localEngine(t), openLibrary(t)
	sdxl := fixtureCompare("a red fox").SDXL
	sdxl.Width, sdxl.Height, sdxl.Steps = 96, 64, 4
	janus := Request{ModelDir: janusFixture, CFG: 5, Temperature: 1}
	res, err := Hybrid(ctx, eng, lib, sdxl, janus, 0.5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Group.Kind != gallery.GroupHybrid || res.Group.Params["strength"] != 0.5 {
		t.Fatalf("group %+v", res.Group)
	}
	rows := groupRows(t, lib, res.Group.ID)
	if len(rows) != 3 {
		t.Fatalf("group holds %d rows, want 3", len(rows))
	}
	plain, draft, refined := rows[0], rows[1], rows[2]
	if plain.Engine != "sdxl" || draft.Engine != "janus" || refined.Engine != "sdxl" {
		t.Fatalf("engines %s %s %s", plain.Engine, draft.Engine, refined.Engine)
	}
	if refined.Image.Width != 96 || refined.Image.Height != 64 || plain.Image.Width != 96 || draft.Image.Width != 64 {
		t.Fatalf("sizes: plain %+v draft %+v refined %+v", plain.Image, draft.Image, refined.Image)
	}
	if id, _ := paramFloat(refined.Params, "hybrid_draft_id"); int64(id) != draft.ID {
		t.Fatalf("refined names draft %v, want %d", refined.Params["hybrid_draft_id"], draft.ID)
	}
	if s, _ := paramFloat(refined.Params, "strength"); s != 0.5 {
		t.Fatalf("strength %v", refined.Params["strength"])
	}
	if !strings.Contains(refined.Params["init_image"].(string), "janus draft #") {
		t.Fatalf("init_image %v", refined.Params["init_image"])
	}
	// Image-to-image at 0.5 runs the vae encoder; plain SDXL does not.
	if _, ok := stageTime(refined.Timings, "vae_encoder"); !ok {
		t.Fatalf("refined timings %+v lack the vae encoder", refined.Timings)
	}
	if _, ok := stageTime(plain.Timings, "vae_encoder"); ok {
		t.Fatal("plain SDXL ran image-to-image")
	}
	if res.Sides[0].Image == nil || res.Sides[2].Image == nil || samePixels(res.Sides[0].Image, res.Sides[2].Image) {
		t.Fatal("the refined image equals plain SDXL: the draft was not used")
	}
	if b := res.Sheet().Bounds(); b.Dx() != 8+3*168 {
		t.Fatalf("sheet %v, want three panels", b)
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if color.RGBAModel.Convert(a.At(x, y)) != color.RGBAModel.Convert(b.At(x, y)) {
				return false
			}
		}
	}
	return true
}

// initSpy records the init image each SDXL request points at, read while
// the file exists.
type initSpy struct {
	fakeEngine
	mu    sync.Mutex
	paths []string
	imgs  []image.Image
	reqs  []Request
}

func (s *initSpy) Generate(ctx context.Context, req Request, progress func(Progress)) (Result, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	if req.InitImage != "" {
		img, err := LoadImage(req.InitImage)
		if err != nil {
			s.mu.Unlock()
			return Result{}, err
		}
		s.paths, s.imgs = append(s.paths, req.InitImage), append(s.imgs, img)
	}
	s.mu.Unlock()
	if req.Model == ModelJanus {
		// A Janus-like draft: 384², left half red, right half blue.
		img := image.NewRGBA(image.Rect(0, 0, 384, 384))
		for y := range 384 {
			for x := range 384 {
				c := color.RGBA{220, 0, 0, 255}
				if x >= 192 {
					c = color.RGBA{0, 0, 220, 255}
				}
				img.SetRGBA(x, y, c)
			}
		}
		return Result{Images: []image.Image{img}, Seed: req.Seed, Device: "cpu"}, nil
	}
	return s.fakeEngine.Generate(ctx, req, progress)
}

func TestHybridUpscalesTheDraftWithLanczos(t *testing.T) {
	lib := openLibrary(t)
	spy := &initSpy{}
	sdxl := Request{ModelDir: "sdxl", Prompt: "a flag", Seed: 3, Width: 1024, Height: 768, Steps: 20}
	res, err := Hybrid(context.Background(), spy, lib, sdxl, Request{ModelDir: "janus"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(spy.imgs) != 1 {
		t.Fatalf("%d init images", len(spy.imgs))
	}
	up := spy.imgs[0]
	if b := up.Bounds(); b.Dx() != 1024 || b.Dy() != 768 {
		t.Fatalf("upscaled draft is %v, want 1024x768", b)
	}
	want := UpscaleLanczos(res.Sides[1].Image, 1024, 768)
	if !samePixels(up, want) {
		t.Fatal("the init image is not the Lanczos upscale of the draft")
	}
	// Lanczos keeps the halves: far from the edge they stay pure.
	if c := color.RGBAModel.Convert(up.At(100, 300)).(color.RGBA); c.R < 200 || c.B > 20 {
		t.Fatalf("left half %v", c)
	}
	last := spy.reqs[len(spy.reqs)-1]
	if last.Strength != DefaultHybridStrength || last.Width != 1024 || last.Height != 768 || last.Seed != 3 {
		t.Fatalf("refine request %+v", last)
	}
	if _, err := os.Stat(spy.paths[0]); !os.IsNotExist(err) {
		t.Fatalf("the temporary upscaled draft %s was left behind (%v)", spy.paths[0], err)
	}
	if res.Sides[2].Request.InitImage != "" {
		t.Fatalf("the stored request points at a temporary file %q", res.Sides[2].Request.InitImage)
	}
}

func TestHybridWithoutDraftFailsTheRefineSide(t *testing.T) {
	lib := openLibrary(t)
	res, err := Hybrid(context.Background(), &fakeEngine{}, lib, Request{ModelDir: "sdxl", Prompt: "p", Seed: 1, Steps: 2},
		Request{ModelDir: "broken"}, 0.4, nil)
	if err == nil || !strings.Contains(err.Error(), "Janus -> SDXL: no Janus draft to refine") {
		t.Fatalf("error %v", err)
	}
	if len(res.Sides) != 3 || res.Sides[0].Err != nil || res.Sides[2].Generation.Status != gallery.StatusFailed {
		t.Fatalf("sides %+v", res.Sides)
	}
}

// TestRefineFromTheWindowMatchesTheCLIHybrid: "Send Janus image to SDXL
// refine" (Studio.Refine → Refine) stores what `compare --hybrid` stores for
// its third side: index 2 of the pair's group, now a hybrid group, the
// draft named, strength 0.5 — not the Studio's img2img slider.
func TestRefineFromTheWindowMatchesTheCLIHybrid(t *testing.T) {
	ctx := context.Background()
	cliLib, guiLib := openLibrary(t), openLibrary(t)
	sd := sdxlReq("a lantern", 11)
	jn := Request{ModelDir: "/models/janus-1b", CFG: 5, Temperature: 1}
	cli, err := Hybrid(ctx, &fakeEngine{}, cliLib, sd, jn, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestStudio(t, &fakeEngine{}, guiLib, "")
	rec := recordEvents(s)
	s.Start()
	if _, err := s.Compare(CompareRequest{SDXL: sd, Janus: jn}); err != nil {
		t.Fatal(err)
	}
	pair := rec.waitFinal(t, 1)[0]
	draft := pair.Generations[1]
	if _, err := s.Refine(RefineRequest{DraftID: draft.ID, SDXL: pair.Job.Compare.SDXL}); err != nil {
		t.Fatal(err)
	}
	e := rec.waitFinal(t, 1)[0]
	if e.Kind != EventDone || len(e.Generations) != 1 {
		t.Fatalf("refine: %v %q", e.Kind, e.Err)
	}
	gui := e.Generations[0]
	want := cli.Sides[2].Generation
	if gui.GroupID != draft.GroupID || gui.GroupIndex != 2 || want.GroupIndex != 2 {
		t.Fatalf("refine row in group %d index %d; draft group %d", gui.GroupID, gui.GroupIndex, draft.GroupID)
	}
	for _, k := range []string{"strength", "hybrid_draft_id", "init_resize"} {
		if fmt.Sprint(gui.Params[k]) == "<nil>" || (k != "hybrid_draft_id" && fmt.Sprint(gui.Params[k]) != fmt.Sprint(want.Params[k])) {
			t.Errorf("param %s: window %v, CLI %v", k, gui.Params[k], want.Params[k])
		}
	}
	if id, _ := paramFloat(gui.Params, "hybrid_draft_id"); int64(id) != draft.ID {
		t.Errorf("refine names draft %v, want %d", gui.Params["hybrid_draft_id"], draft.ID)
	}
	g, err := guiLib.Group(ctx, draft.GroupID)
	if err != nil || g.Kind != gallery.GroupHybrid || g.Params["strength"] != DefaultHybridStrength {
		t.Fatalf("group after refine %+v %v", g, err)
	}
	if _, err := s.Refine(RefineRequest{DraftID: 0}); err == nil {
		t.Fatal("a refine of no draft was queued")
	}
}
