//go:build cgo

package desktop

import (
	"context"
	"errors"
	"image"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"diptych/app"
	"diptych/app/local"
	"diptych/engine/models"
	"diptych/ui"
)

// TestBackendQueueOperations drives the queue through the Backend with the
// Studio not started, so every job stays where the calls put it, and
// checks that the waiting jobs outlive the Backend.
func TestBackendQueueOperations(t *testing.T) {
	dir := t.TempDir()
	opts := BackendOptions{Settings: app.DefaultSettings(), QueuePath: filepath.Join(dir, "queue.json"), Engine: flatEngine{},
		ModelStore: models.NewStore(filepath.Join(dir, "data")), Library: filepath.Join(dir, "lib")}
	b, err := NewBackend(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	pairID, err := b.Compare(app.CompareRequest{SDXL: ui.Request{Prompt: "a paper crane", Seed: -1, Steps: 3, ModelDir: "/m/sdxl"},
		Janus: ui.Request{CFG: 5, ModelDir: "/m/janus"}})
	if err != nil {
		t.Fatal(err)
	}
	js := b.Jobs()
	if len(js) != 1 || js[0].ID != pairID || js[0].Kind != app.JobCompare || js[0].Compare == nil {
		t.Fatalf("compare %s gave jobs %+v", pairID, js)
	}
	sd, jn := js[0].Compare.SDXL, js[0].Compare.Janus
	if sd.Model != ui.EngineSDXL || jn.Model != ui.EngineJanus {
		t.Fatalf("sides %+v / %+v", sd, jn)
	}
	if sd.Seed < 0 || jn.Seed != sd.Seed || jn.Prompt != "a paper crane" || jn.CFG != 5 || sd.Steps != 3 {
		t.Fatalf("requests %+v / %+v", sd, jn)
	}
	if _, err := b.Compare(app.CompareRequest{}); err == nil {
		t.Fatal("an empty compare was queued")
	}
	pair := struct{ SDXL, Janus ui.JobID }{pairID, b.Submit(ui.Request{Model: ui.EngineJanus, Prompt: "janus alone"})}

	third := b.Submit(ui.Request{Model: ui.EngineSDXL, Prompt: "third"})
	if err := b.Move(third, 0); err != nil {
		t.Fatal(err)
	}
	order := func() []ui.JobID {
		var ids []ui.JobID
		for _, j := range b.Jobs() {
			ids = append(ids, j.ID)
		}
		return ids
	}
	if got, want := order(), []ui.JobID{third, pair.SDXL, pair.Janus}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after move %v, want %v", got, want)
	}
	if !b.Cancel(pair.SDXL) || b.Cancel("job-that-never-was") {
		t.Fatal("cancel: want true for a waiting job, false for an unknown one")
	}
	if err := b.Move(pair.SDXL, 0); err == nil || !strings.Contains(err.Error(), "not waiting") {
		t.Fatalf("moving a cancelled job: %v", err)
	}
	if err := b.Remove(pair.Janus); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove("job-that-never-was"); err == nil || !strings.Contains(err.Error(), "no job job-that-never-was") {
		t.Fatalf("removing an unknown job: %v", err)
	}
	js = b.Jobs()
	if len(js) != 2 || js[0].ID != pair.SDXL || js[0].State != app.JobCancelled || js[1].ID != third || js[1].State != app.JobQueued {
		t.Fatalf("after cancel and remove %+v", js)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b2, err := NewBackend(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	var waiting []ui.JobID
	for _, j := range b2.Jobs() {
		if j.State == app.JobQueued {
			waiting = append(waiting, j.ID)
		}
	}
	if len(waiting) != 1 || waiting[0] != third {
		t.Fatalf("reopened queue waits on %v, want [%s]", waiting, third)
	}
}

type flatEngine struct{}

func (flatEngine) Generate(ctx context.Context, r app.Request, p func(app.Progress)) (app.Result, error) {
	p(app.Progress{Stage: "denoise", Step: 1, Total: 1})
	return app.Result{Images: []image.Image{image.NewRGBA(image.Rect(0, 0, 8, 8))}, Seed: 9, Device: "cpu", Provider: "CPU"}, nil
}

func TestBackendOverStudio(t *testing.T) {
	dir := t.TempDir()
	b, err := NewBackend(context.Background(), BackendOptions{
		Settings: app.DefaultSettings(), SettingsPath: filepath.Join(dir, "settings.json"),
		QueuePath: filepath.Join(dir, "queue.json"), Engine: flatEngine{},
		ModelStore: models.NewStore(filepath.Join(dir, "data")), Library: filepath.Join(dir, "lib")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Studio().Start()

	ms, err := b.Models(context.Background())
	if err != nil || len(ms) != 0 {
		t.Fatalf("models before install %v %v", ms, err)
	}
	t.Setenv("DIPTYCH_DEMO_SOURCE", "../..")
	dirs, err := b.InstallDemoModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ms, _ = b.Models(context.Background())
	if len(ms) != len(dirs) || len(ms) < 2 {
		t.Fatalf("models after install %+v (installed %v)", ms, dirs)
	}
	kinds := map[string]bool{}
	for _, m := range ms {
		kinds[m.Kind] = m.Demo
	}
	if !kinds[ui.KindSDXLBase] || !kinds[ui.KindJanus] {
		t.Fatalf("demo kinds %v", kinds)
	}

	done := make(chan ui.Event, 4)
	unsub := b.Subscribe(func(e ui.Event) {
		if e.Kind == app.EventDone || e.Kind == app.EventFailed {
			done <- e
		}
	})
	defer unsub()
	id := b.Submit(ui.Request{Model: ui.EngineSDXL, ModelDir: ms[0].Dir, Prompt: "through the adapter", Seed: 9, Steps: 2})
	select {
	case e := <-done:
		if e.Kind != app.EventDone || e.Job.ID != id || len(e.Generations) != 1 {
			t.Fatalf("event %+v", e)
		}
		g, err := b.Get(context.Background(), e.Generations[0].ID)
		if err != nil || g.Prompt != "through the adapter" || g.Steps != 2 {
			t.Fatalf("saved %+v %v", g, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no result")
	}
	if js := b.Jobs(); len(js) != 1 || js[0].State != app.JobDone {
		t.Fatalf("jobs %+v", js)
	}

	s := b.Settings()
	s.Theme, s.PreviewEvery = "dark", 2
	if err := b.SaveSettings(s); err != nil {
		t.Fatal(err)
	}
	back, err := app.LoadSettings(filepath.Join(dir, "settings.json"))
	if err != nil || back.Theme != "dark" || back.PreviewEvery != 2 {
		t.Fatalf("settings file %+v %v", back, err)
	}
	s.Theme = "purple"
	if err := b.SaveSettings(s); err == nil || !strings.Contains(err.Error(), `theme "purple"`) {
		t.Fatalf("bad theme: %v", err)
	}
}

// closeSpy is an engine passed in by the caller, who keeps it.
type closeSpy struct {
	flatEngine
	closed bool
}

func (c *closeSpy) Close() error { c.closed = true; return nil }

// TestBackendClosesTheEngineItBuilt: the engine the Backend builds (the
// window's) is closed with it; one passed in belongs to the caller. A new
// runtime library setting is reported as needing a restart.
func TestBackendClosesTheEngineItBuilt(t *testing.T) {
	dir := t.TempDir()
	opts := BackendOptions{Settings: app.DefaultSettings(), ModelStore: models.NewStore(filepath.Join(dir, "data")),
		Library: filepath.Join(dir, "lib")}
	b, err := NewBackend(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	eng, ok := b.engine.(*local.Engine)
	if !ok || !b.owned {
		t.Fatalf("built engine %T owned %v, want a *local.Engine it owns", b.engine, b.owned)
	}
	s := b.Settings()
	s.ORTLib = filepath.Join(dir, "other", "libonnxruntime.so")
	if err := b.SaveSettings(s); err != nil {
		t.Fatal(err)
	}
	if d := b.Diagnose(context.Background()); !strings.Contains(d.Restart, "takes effect when Diptych restarts") || !strings.Contains(d.Restart, s.ORTLib) {
		t.Fatalf("restart notice %q", d.Restart)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Generate(context.Background(), ui.Request{Model: ui.EngineSDXL, ModelDir: "x", Prompt: "p"}, nil); !errors.Is(err, local.ErrClosed) {
		t.Fatalf("the built engine still runs after Close: %v", err)
	}

	spy := &closeSpy{}
	opts.Engine, opts.Library = spy, filepath.Join(dir, "lib2")
	b2, err := NewBackend(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.Close(); err != nil {
		t.Fatal(err)
	}
	if spy.closed {
		t.Fatal("the Backend closed an engine it was given")
	}
}
