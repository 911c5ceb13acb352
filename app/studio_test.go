package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"diptych/gallery"
)

// fakeEngine makes a flat image whose colour encodes the seed, after
// reporting steps. Requests for ModelDir "broken" fail like a model that
// cannot load; "slow" runs until cancelled.
type fakeEngine struct {
	mu    sync.Mutex
	order []string
	// started is signalled when a "slow" job begins.
	started chan string
	panics  bool
}

func (f *fakeEngine) Generate(ctx context.Context, req Request, progress func(Progress)) (Result, error) {
	f.mu.Lock()
	f.order = append(f.order, req.Prompt)
	f.mu.Unlock()
	if f.panics {
		panic("boom")
	}
	switch req.ModelDir {
	case "broken":
		return Result{}, fmt.Errorf("load unet %s: open model.onnx: no such file or directory", "/models/broken/unet")
	case "slow":
		if f.started != nil {
			f.started <- req.Prompt
		}
		<-ctx.Done()
		return Result{}, fmt.Errorf("denoise step 3: %w", ctx.Err())
	}
	steps := max(req.Steps, 1)
	for i := 1; i <= steps; i++ {
		progress(Progress{Stage: "denoise", Step: i, Total: steps, Rate: 10})
	}
	seed := req.Seed
	if seed < 0 {
		seed = 4242
	}
	w, h := max(req.Width, 8), max(req.Height, 8)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	c := color.RGBA{uint8(seed), uint8(seed >> 8), 7, 255}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	return Result{Images: []image.Image{img}, Seed: seed, Device: "cpu", Provider: "CPU", Precision: "fp32",
		Timings: []StageTiming{{Stage: "denoise", Duration: 30 * time.Millisecond}}, Total: 40 * time.Millisecond, PeakRSSMB: 123}, nil
}

func (f *fakeEngine) prompts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.order...)
}

// recorder keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []Event
	ch     chan Event
}

func recordEvents(s *Studio) *recorder {
	r := &recorder{ch: make(chan Event, 1000)}
	s.Subscribe(func(e Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
		r.ch <- e
	})
	return r
}

// waitFinal waits for n final events (done, failed, cancelled) and returns them.
func (r *recorder) waitFinal(t *testing.T, n int) []Event {
	t.Helper()
	var out []Event
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case e := <-r.ch:
			if e.Kind == EventDone || e.Kind == EventFailed || e.Kind == EventCancelled {
				out = append(out, e)
			}
		case <-timeout:
			t.Fatalf("timed out after %d of %d final events", len(out), n)
		}
	}
	return out
}

func openLibrary(t *testing.T) *gallery.Store {
	t.Helper()
	st, err := gallery.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newTestStudio(t *testing.T, eng Engine, lib Library, queuePath string) *Studio {
	t.Helper()
	s, err := NewStudio(StudioOptions{Engine: eng, Library: lib, Settings: DefaultSettings(), QueuePath: queuePath, AppVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sdxlReq(prompt string, seed int64) Request {
	return Request{Model: ModelSDXL, ModelDir: "/models/sdxl-base", Prompt: prompt, Negative: "blurry",
		Seed: seed, Width: 16, Height: 8, Steps: 3, Scheduler: "euler_a", Guidance: 5}
}

func TestStudioRunsJobsInOrderAndSavesToGallery(t *testing.T) {
	eng := &fakeEngine{}
	lib := openLibrary(t)
	s := newTestStudio(t, eng, lib, "")
	rec := recordEvents(s)
	a := s.Submit(sdxlReq("a red fox", 11))
	b := s.Submit(sdxlReq("a lighthouse", 12))
	s.Start()
	final := rec.waitFinal(t, 2)
	if final[0].Job.ID != a || final[1].Job.ID != b || final[0].Kind != EventDone || final[1].Kind != EventDone {
		t.Fatalf("final events %v %v, want done %s then done %s", final[0], final[1], a, b)
	}
	if got := eng.prompts(); strings.Join(got, "|") != "a red fox|a lighthouse" {
		t.Fatalf("engine ran %q", got)
	}
	// Progress came before done, with every step.
	var steps []int
	rec.mu.Lock()
	for _, e := range rec.events {
		if e.Kind == EventProgress && e.Job.ID == a {
			steps = append(steps, e.Progress.Step)
		}
	}
	rec.mu.Unlock()
	if fmt.Sprint(steps) != "[1 2 3]" {
		t.Fatalf("progress steps for the first job %v, want [1 2 3]", steps)
	}
	g := final[0].Generations[0]
	got, err := lib.Get(context.Background(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Prompt != "a red fox" || got.NegativePrompt != "blurry" || got.Seed != 11 || got.Steps != 3 ||
		got.Scheduler != "euler_a" || got.Width != 16 || got.Height != 8 || got.Device != "cpu" ||
		got.ExecutionProvider != "CPU" || got.Status != gallery.StatusOK || got.Image == nil {
		t.Fatalf("saved generation %+v", got)
	}
	if len(got.Timings) == 0 || got.Timings[0].Stage != "denoise" {
		t.Fatalf("timings not saved: %+v", got.Timings)
	}
	rq, ok := got.Params["request"].(map[string]any)
	if !ok || rq["scheduler"] != "euler_a" || rq["model_dir"] != "/models/sdxl-base" {
		t.Fatalf("request not kept in params: %#v", got.Params["request"])
	}
	page, err := lib.List(context.Background(), gallery.Query{Text: "lighthouse"})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != final[1].Generations[0].ID {
		t.Fatalf("search lighthouse: %+v %v", page.Items, err)
	}
	jobs := s.Jobs()
	if len(jobs) != 2 || jobs[0].State != JobDone || len(jobs[0].Generations) != 1 {
		t.Fatalf("Jobs() = %+v", jobs)
	}
}

func TestStudioModelFailingMidQueueFailsThatJobOnly(t *testing.T) {
	eng := &fakeEngine{}
	lib := openLibrary(t)
	s := newTestStudio(t, eng, lib, "")
	rec := recordEvents(s)
	s.Submit(sdxlReq("one", 1))
	bad := sdxlReq("two", 2)
	bad.ModelDir = "broken"
	s.Submit(bad)
	s.Submit(sdxlReq("three", 3))
	s.Start()
	final := rec.waitFinal(t, 3)
	kinds := []EventKind{final[0].Kind, final[1].Kind, final[2].Kind}
	if fmt.Sprint(kinds) != "[done failed done]" {
		t.Fatalf("kinds %v", kinds)
	}
	if !strings.Contains(final[1].Err, "load unet /models/broken/unet") || final[1].Job.Error != final[1].Err {
		t.Fatalf("failure reason %q / job error %q", final[1].Err, final[1].Job.Error)
	}
	page, err := lib.List(context.Background(), gallery.Query{Status: gallery.StatusFailed})
	if err != nil || len(page.Items) != 1 || !strings.Contains(page.Items[0].Error, "no such file") {
		t.Fatalf("failed run not recorded: %+v %v", page.Items, err)
	}
}

func TestStudioEnginePanicFailsTheJob(t *testing.T) {
	s := newTestStudio(t, &fakeEngine{panics: true}, openLibrary(t), "")
	rec := recordEvents(s)
	s.Submit(sdxlReq("x", 1))
	s.Start()
	if e := rec.waitFinal(t, 1)[0]; e.Kind != EventFailed || !strings.Contains(e.Err, "crashed: boom") {
		t.Fatalf("got %v %q", e.Kind, e.Err)
	}
}

// fullDisk fails the first n saves like a full disk.
type fullDisk struct {
	*gallery.Store
	mu sync.Mutex
	n  int
}

func (f *fullDisk) Save(ctx context.Context, r gallery.SaveRequest) (gallery.Generation, error) {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return gallery.Generation{}, fmt.Errorf("write %s: %w", "/lib/images/x.png", syscall.ENOSPC)
	}
	return f.Store.Save(ctx, r)
}

func TestStudioFullDiskFailsTheJobAndGoesOn(t *testing.T) {
	lib := &fullDisk{Store: openLibrary(t), n: 1}
	s := newTestStudio(t, &fakeEngine{}, lib, "")
	rec := recordEvents(s)
	s.Submit(sdxlReq("one", 1))
	s.Submit(sdxlReq("two", 2))
	s.Start()
	final := rec.waitFinal(t, 2)
	if final[0].Kind != EventFailed || !strings.Contains(final[0].Err, "no space left on device") ||
		!strings.Contains(final[0].Err, "save image 1 of 1 to the library") {
		t.Fatalf("first: %v %q", final[0].Kind, final[0].Err)
	}
	if final[1].Kind != EventDone {
		t.Fatalf("second: %v %q", final[1].Kind, final[1].Err)
	}
}

func TestStudioCancelRunningAndQueued(t *testing.T) {
	eng := &fakeEngine{started: make(chan string, 1)}
	s := newTestStudio(t, eng, openLibrary(t), "")
	rec := recordEvents(s)
	slow := sdxlReq("slow", 1)
	slow.ModelDir = "slow"
	a := s.Submit(slow)
	b := s.Submit(sdxlReq("queued", 2))
	c := s.Submit(sdxlReq("after", 3))
	s.Start()
	<-eng.started
	if !s.Busy() {
		t.Fatal("Busy() false while a job runs")
	}
	if !s.Cancel(b) || !s.Cancel(a) {
		t.Fatal("Cancel did not find the jobs")
	}
	final := rec.waitFinal(t, 3)
	byID := map[JobID]Event{}
	for _, e := range final {
		byID[e.Job.ID] = e
	}
	if byID[a].Kind != EventCancelled || byID[b].Kind != EventCancelled || byID[c].Kind != EventDone {
		t.Fatalf("a %v b %v c %v", byID[a].Kind, byID[b].Kind, byID[c].Kind)
	}
	if got := strings.Join(eng.prompts(), "|"); got != "slow|after" {
		t.Fatalf("engine ran %q; the cancelled queued job must not run", got)
	}
	if s.Cancel(c) {
		t.Fatal("Cancel of a finished job reported true")
	}
}

func TestStudioMoveAndRemove(t *testing.T) {
	s := newTestStudio(t, &fakeEngine{}, openLibrary(t), "")
	a := s.Submit(sdxlReq("a", 1))
	b := s.Submit(sdxlReq("b", 2))
	c := s.Submit(sdxlReq("c", 3))
	if err := s.Move(c, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Move(a, 99); err != nil {
		t.Fatal(err)
	}
	ids := func() (out []JobID) {
		for _, j := range s.Jobs() {
			out = append(out, j.ID)
		}
		return
	}
	if got, want := fmt.Sprint(ids()), fmt.Sprint([]JobID{c, b, a}); got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
	if err := s.Remove(b); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(ids()), fmt.Sprint([]JobID{c, a}); got != want {
		t.Fatalf("after remove %s, want %s", got, want)
	}
	if err := s.Remove("nope"); err == nil || !strings.Contains(err.Error(), "no job nope") {
		t.Fatalf("Remove unknown: %v", err)
	}
	if err := s.Move("nope", 0); err == nil {
		t.Fatal("Move unknown: no error")
	}
}

func TestStudioQueueSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "diptych", QueueFileName)
	lib := openLibrary(t)
	s1 := newTestStudio(t, &fakeEngine{}, lib, path)
	a := s1.Submit(sdxlReq("first", 1))
	b := s1.Submit(sdxlReq("second", 2))
	s1.Move(b, 0)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	eng := &fakeEngine{}
	s2 := newTestStudio(t, eng, lib, path)
	if w := s2.Warnings(); len(w) != 0 {
		t.Fatalf("warnings %v", w)
	}
	jobs := s2.Jobs()
	if len(jobs) != 2 || jobs[0].ID != b || jobs[1].ID != a || jobs[0].Request.Prompt != "second" ||
		jobs[1].Request.Scheduler != "euler_a" || jobs[0].State != JobQueued {
		t.Fatalf("restored %+v", jobs)
	}
	rec := recordEvents(s2)
	s2.Start()
	rec.waitFinal(t, 2)
	if got := strings.Join(eng.prompts(), "|"); got != "second|first" {
		t.Fatalf("ran %q", got)
	}
	// Once run, nothing is left to restore.
	s2.Close()
	left, err := LoadQueue(path, time.Now())
	if err != nil || len(left) != 0 {
		t.Fatalf("left %v %v", left, err)
	}
}

func TestStudioCorruptQueueIsKeptAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, QueueFileName)
	garbage := []byte(`{"version":1,"jobs":[{"id":"x","request":`)
	os.WriteFile(path, garbage, 0o644)
	s := newTestStudio(t, &fakeEngine{}, openLibrary(t), path)
	w := s.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], path) || !strings.Contains(w[0], "kept as "+path+".corrupt-") {
		t.Fatalf("warnings %q", w)
	}
	matches, _ := filepath.Glob(path + ".corrupt-*")
	if len(matches) != 1 {
		t.Fatalf("kept files %v", matches)
	}
	if b, _ := os.ReadFile(matches[0]); string(b) != string(garbage) {
		t.Fatalf("kept file changed: %q", b)
	}
	if len(s.Jobs()) != 0 {
		t.Fatal("jobs from a corrupt file")
	}
	// A new job is persisted to a fresh file.
	s.Submit(sdxlReq("new", 1))
	s.Close()
	jobs, err := LoadQueue(path, time.Now())
	if err != nil || len(jobs) != 1 || jobs[0].Request.Prompt != "new" {
		t.Fatalf("after corrupt: %+v %v", jobs, err)
	}
}

func TestLoadQueueRejectsWrongVersionAndRequeuesRunning(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "q.json")
	os.WriteFile(p, []byte(`{"version":7,"jobs":[]}`), 0o644)
	_, err := LoadQueue(p, time.Now())
	var ce *CorruptQueueError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "version 7, expected 1") {
		t.Fatalf("err %v", err)
	}
	if err := SaveQueue(p, []Job{{ID: "r", State: JobRunning, Started: time.Now()}, {ID: "d", State: JobDone}, {ID: "q", State: JobQueued}}); err != nil {
		t.Fatal(err)
	}
	jobs, err := LoadQueue(p, time.Now())
	if err != nil || len(jobs) != 2 || jobs[0].ID != "r" || jobs[0].State != JobQueued || !jobs[0].Started.IsZero() || jobs[1].ID != "q" {
		t.Fatalf("%+v %v", jobs, err)
	}
}

func TestStudioCloseDuringRunCancelsAndKeepsQueue(t *testing.T) {
	path := filepath.Join(t.TempDir(), QueueFileName)
	eng := &fakeEngine{started: make(chan string, 1)}
	s := newTestStudio(t, eng, openLibrary(t), path)
	rec := recordEvents(s)
	slow := sdxlReq("slow", 1)
	slow.ModelDir = "slow"
	s.Submit(slow)
	s.Submit(sdxlReq("waiting", 2))
	s.Start()
	<-eng.started
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	e := rec.waitFinal(t, 1)[0]
	if e.Kind != EventCancelled || !strings.Contains(e.Err, "the app was closed") {
		t.Fatalf("%v %q", e.Kind, e.Err)
	}
	jobs, err := LoadQueue(path, time.Now())
	if err != nil || len(jobs) != 1 || jobs[0].Request.Prompt != "waiting" {
		t.Fatalf("queue after close %+v %v", jobs, err)
	}
}

func TestStudioCompareSharesSeedAndGroup(t *testing.T) {
	lib := openLibrary(t)
	s := newTestStudio(t, &fakeEngine{}, lib, "")
	rec := recordEvents(s)
	sd := sdxlReq("a castle at dusk", -1)
	jn := Request{ModelDir: "/models/janus-1b", CFG: 5, Temperature: 1, Prompt: "ignored", Seed: 99}
	id, err := s.Compare(CompareRequest{SDXL: sd, Janus: jn})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	e := rec.waitFinal(t, 1)[0]
	if e.Kind != EventDone || e.Job.ID != id || len(e.Generations) != 2 {
		t.Fatalf("%v %q, %d rows", e.Kind, e.Err, len(e.Generations))
	}
	gs := e.Generations
	group := e.Job.GroupID
	if gs[0].GroupID != group || gs[1].GroupID != group || group == 0 || gs[0].GroupIndex != 0 || gs[1].GroupIndex != 1 {
		t.Fatalf("groups %d/%d %d/%d, job group %d", gs[0].GroupID, gs[0].GroupIndex, gs[1].GroupID, gs[1].GroupIndex, group)
	}
	if gs[0].Seed != gs[1].Seed || gs[0].Seed > MaxSeed || gs[1].Prompt != "a castle at dusk" || gs[0].Engine != "sdxl" || gs[1].Engine != "janus" {
		t.Fatalf("sides %+v / %+v", gs[0], gs[1])
	}
	grp, err := lib.Group(context.Background(), group)
	if err != nil || grp.Kind != gallery.GroupCompare || grp.Params["prompt"] != "a castle at dusk" {
		t.Fatalf("group %+v %v", grp, err)
	}
	// Each stored side was announced, with its side index, before the end.
	var sides []int
	var progressSides = map[int]bool{}
	rec.mu.Lock()
	for _, ev := range rec.events {
		switch ev.Kind {
		case EventSideDone:
			sides = append(sides, ev.Side)
		case EventProgress:
			progressSides[ev.Side] = true
		}
	}
	rec.mu.Unlock()
	if fmt.Sprint(sides) != "[0 1]" || !progressSides[0] || !progressSides[1] {
		t.Fatalf("side-done events %v, progress sides %v", sides, progressSides)
	}
	// Re-run the Janus side alone with another temperature.
	jn2 := jn
	jn2.Model, jn2.Prompt, jn2.Seed, jn2.Temperature = ModelJanus, "a castle at dusk", int64(gs[1].Seed), 0.5
	s.SubmitToGroup(jn2, group, 1)
	e = rec.waitFinal(t, 1)[0]
	if e.Generations[0].GroupID != group || e.Generations[0].GroupIndex != 1 || e.Generations[0].Seed != gs[1].Seed {
		t.Fatalf("re-run %+v", e.Generations[0])
	}
	if _, err := s.Compare(CompareRequest{}); err == nil || !strings.Contains(err.Error(), "prompt is empty") {
		t.Fatalf("empty prompt compare: %v", err)
	}
}

// TestStudioAndDirectCallsRecordTheSame: the GUI's queue and the CLI reach
// the same use cases, so the same request stores the same row either way —
// with the whole request, and a failure recorded too.
func TestStudioAndDirectCallsRecordTheSame(t *testing.T) {
	ctx := context.Background()
	gui, cli := openLibrary(t), openLibrary(t)
	s := newTestStudio(t, &fakeEngine{}, gui, "")
	rec := recordEvents(s)
	s.Start()
	req := sdxlReq("one path", 77)
	bad := sdxlReq("broken model", 78)
	bad.ModelDir = "broken"
	s.Submit(req)
	s.Submit(bad)
	rec.waitFinal(t, 2)
	settings := s.Settings()
	if _, err := Generate(ctx, &fakeEngine{}, settings.Apply(req), RecordOptions{Library: cli}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(ctx, &fakeEngine{}, settings.Apply(bad), RecordOptions{Library: cli}, nil); err == nil {
		t.Fatal("broken model: no error")
	}
	rows := func(lib *gallery.Store) []gallery.Generation {
		p, err := lib.List(ctx, gallery.Query{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var out []gallery.Generation
		for _, it := range p.Items {
			g, err := lib.Get(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, g)
		}
		return out
	}
	a, b := rows(gui), rows(cli)
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("rows: GUI %d, CLI %d; want 2 each (one failed)", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		delete(x.Params, "job_id")
		if x.Prompt != y.Prompt || x.Seed != y.Seed || x.Status != y.Status || x.Error != y.Error || x.Width != y.Width ||
			fmt.Sprint(x.Params) != fmt.Sprint(y.Params) {
			t.Errorf("row %d differs:\nGUI %+v\nCLI %+v", i, x, y)
		}
		if _, ok := y.Params["request"]; !ok {
			t.Errorf("row %d has no request", i)
		}
	}
}
