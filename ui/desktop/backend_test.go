//go:build cgo

package desktop

import (
	"context"
	"image"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"diptych/app"
	"diptych/engine/models"
	"diptych/ui"
)

// TestRequestConversionKeepsEveryField fills every field of app.Request
// and checks the round trip through ui.Request, so a field added to one
// and not the other is caught.
func TestRequestConversionKeepsEveryField(t *testing.T) {
	var r app.Request
	v := reflect.ValueOf(&r).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + v.Type().Field(i).Name)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.5)
		default:
			t.Fatalf("field %s has kind %s: teach this test", v.Type().Field(i).Name, f.Kind())
		}
	}
	if got := ToApp(FromApp(r)); got != r {
		t.Fatalf("round trip lost fields:\n got %+v\nwant %+v", got, r)
	}
	if reflect.TypeOf(ui.Request{}).NumField() != v.NumField() {
		t.Fatalf("ui.Request has %d fields, app.Request %d", reflect.TypeOf(ui.Request{}).NumField(), v.NumField())
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
		if e.Kind == ui.EventDone || e.Kind == ui.EventFailed {
			done <- e
		}
	})
	defer unsub()
	id := b.Submit(ui.Request{Model: ui.EngineSDXL, ModelDir: ms[0].Dir, Prompt: "through the adapter", Seed: 9, Steps: 2})
	select {
	case e := <-done:
		if e.Kind != ui.EventDone || e.Job.ID != id || len(e.Generations) != 1 {
			t.Fatalf("event %+v", e)
		}
		g, err := b.Get(context.Background(), e.Generations[0].ID)
		if err != nil || g.Prompt != "through the adapter" || g.Steps != 2 {
			t.Fatalf("saved %+v %v", g, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no result")
	}
	if js := b.Jobs(); len(js) != 1 || js[0].State != ui.JobDone {
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
