package ui

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"diptych/app"
	"diptych/gallery"
)

type harness struct {
	q    chan func()
	f    *fakeBackend
	u    *UI
	w    fyne.Window
	app  fyne.App
	quit chan struct{}
}

func newHarness(t testing.TB, f *fakeBackend) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	h := &harness{f: f, w: w, app: a, quit: make(chan struct{}, 1), q: make(chan func(), 100000)}
	h.u = New(f, w, Options{Prefs: a.Preferences(), Quit: func() { h.quit <- struct{}{} }, Do: func(fn func()) { h.q <- fn }})
	w.Resize(fyne.NewSize(1280, 820))
	h.u.Start()
	t.Cleanup(h.u.Close)
	if len(f.models) > 0 {
		h.waitFor(t, "models in the picker", func() bool { return h.u.Studio.Model.Selected != "" })
	}
	return h
}

// pump runs the queued UI work on the test goroutine, which plays the UI
// thread: widgets change only here or in the test's own calls.
func (h *harness) pump() {
	for {
		select {
		case fn := <-h.q:
			fn()
		default:
			return
		}
	}
}

// waitFor pumps UI work until cond holds (10 s at most).
func (h *harness) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.pump()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// generate types a prompt, sets sizes and steps and taps Generate.
func (h *harness) generate(t *testing.T, prompt string) {
	t.Helper()
	h.u.Studio.Prompt.SetText("")
	test.Type(h.u.Studio.Prompt, prompt)
	test.Tap(h.u.Studio.Generate)
}

func TestGenerateShowsProgressAndResult(t *testing.T) {
	f := newFake(t)
	gate := make(chan struct{})
	f.engine = stepEngine(4, 0, gate)
	h := newHarness(t, f)
	s := h.u.Studio

	test.Type(s.Prompt, "a red fox in snow")
	test.Type(s.Negative, "blurry")
	s.Width.SetValue(1152)
	s.Height.SetValue(896)
	if !strings.HasPrefix(s.Aspect.Selected, "9:7") {
		t.Fatalf("aspect after 1152×896 = %q, want the 9:7 preset", s.Aspect.Selected)
	}
	s.Aspect.SetSelectedIndex(4) // 2:3 portrait 832×1216
	if s.Width.Value != 832 || s.Height.Value != 1216 {
		t.Fatalf("preset gave %v×%v", s.Width.Value, s.Height.Value)
	}
	s.Steps.SetValue(4)
	s.Scheduler.SetSelected("dpmpp_2m")
	s.Guidance.SetValue(6.5)
	test.Tap(s.Generate)

	h.waitFor(t, "progress after step 1", func() bool { return s.Progress.Value == 0.25 })
	if txt := s.ProgressText.Text; !strings.Contains(txt, "denoise 1/4") || !strings.Contains(txt, "2.50 it/s") || !strings.Contains(txt, "ETA 0:01") {
		t.Fatalf("progress text %q", txt)
	}
	if s.Image.Image == nil {
		t.Fatal("no live preview during the run")
	}
	if s.Cancel.Disabled() {
		t.Fatal("Cancel disabled during a run")
	}
	close(gate)
	h.waitFor(t, "the result", func() bool { return s.Last != nil })
	req := f.requestsSeen()[0]
	if req.Prompt != "a red fox in snow" || req.Negative != "blurry" || req.Width != 832 || req.Height != 1216 ||
		req.Steps != 4 || req.Scheduler != "dpmpp_2m" || req.Guidance != 6.5 || req.Model != EngineSDXL ||
		req.ModelDir != "/models/sdxl-base" || req.Seed != -1 || req.Device != "auto" {
		t.Fatalf("request %+v", req)
	}
	h.waitFor(t, "the saved image", func() bool {
		img := s.Image.Image
		return img != nil && img.Bounds().Dx() == 13 // 832/64
	})
	if s.Progress.Value != 1 || s.ProgressText.Text != "Done" {
		t.Fatalf("progress %v %q", s.Progress.Value, s.ProgressText.Text)
	}
	info := s.Info.Text
	for _, want := range []string{"a red fox in snow", "Seed: 1001", "Steps: 4 · dpmpp_2m", "Device: cpu (CPU)", "Timings: denoise 1.20 s", "Peak memory: 536.9 MB"} {
		if !strings.Contains(info, want) {
			t.Errorf("result info lacks %q:\n%s", want, info)
		}
	}
	if s.Seed.Text != "1001" {
		t.Fatalf("seed entry shows %q after a random-seed run, want the seed used (1001)", s.Seed.Text)
	}
	if !s.Cancel.Disabled() {
		t.Fatal("Cancel still enabled after the run")
	}
}

func TestHistorySearchAndReuseSettings(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f)
	s := h.u.Studio
	s.Steps.SetValue(12)
	s.SeedLock.SetChecked(true)
	s.Seed.SetText("4242")
	h.generate(t, "a lighthouse at dusk")
	h.waitFor(t, "first result", func() bool { return len(f.Jobs()) == 1 && f.Jobs()[0].State == app.JobDone })
	s.Steps.SetValue(30)
	s.SeedLock.SetChecked(false)
	h.generate(t, "a ramen shop in rain")
	h.waitFor(t, "second result", func() bool { return len(f.Jobs()) == 2 && f.Jobs()[1].State == app.JobDone })

	hv := h.u.History
	h.u.Tabs.SelectIndex(2)
	h.waitFor(t, "both in history", func() bool { return len(hv.Items()) == 2 })
	test.Type(hv.Search, "lighthouse")
	h.waitFor(t, "search result", func() bool { return len(hv.Items()) == 1 && hv.Items()[0].Prompt == "a lighthouse at dusk" })
	hv.Grid.Select(0)
	h.waitFor(t, "detail", func() bool { return strings.Contains(hv.Detail.Text, "Seed: 4242") })
	h.waitFor(t, "detail image", func() bool { return hv.DetailImage.Image != nil })

	s.Prompt.SetText("something else")
	test.Tap(hv.UseSettings)
	if h.u.Tabs.SelectedIndex() != 0 {
		t.Fatal("use these settings did not go back to the Studio")
	}
	if s.Prompt.Text != "a lighthouse at dusk" || s.Steps.Value != 12 || s.Seed.Text != "4242" || !s.SeedLock.Checked {
		t.Fatalf("reused settings: prompt %q steps %v seed %q lock %v", s.Prompt.Text, s.Steps.Value, s.Seed.Text, s.SeedLock.Checked)
	}
	test.Tap(s.Generate)
	h.waitFor(t, "third run", func() bool { return len(f.requestsSeen()) == 3 })
	if r := f.requestsSeen()[2]; r.Seed != 4242 || r.Steps != 12 || r.Prompt != "a lighthouse at dusk" {
		t.Fatalf("re-run request %+v", r)
	}

	// Copy prompt, favourite, delete and undo.
	test.Tap(hv.CopyPrompt)
	if got := h.app.Clipboard().Content(); got != "a lighthouse at dusk" {
		t.Fatalf("clipboard %q", got)
	}
	test.Tap(hv.Favourite)
	h.waitFor(t, "favourite", func() bool { g, _ := f.Get(context.Background(), 1); return g.Favourite })
	hv.Search.SetText("")
	hv.Reload()
	h.waitFor(t, "all three", func() bool { return len(hv.Items()) == 3 })
	hv.Grid.Select(2) // oldest: the lighthouse
	h.waitFor(t, "selection", func() bool { return hv.Selected != nil && hv.Selected.ID == 1 })
	test.Tap(hv.Delete)
	h.waitFor(t, "deleted", func() bool { return len(hv.Items()) == 2 && hv.Undo.Visible() })
	test.Tap(hv.Undo)
	h.waitFor(t, "restored", func() bool { return len(hv.Items()) == 3 && !hv.Undo.Visible() })
	dest := t.TempDir()
	hv.ExportTo(1, dest)
	h.waitFor(t, "export", func() bool { _, err := os.Stat(filepath.Join(dest, "1.png")); return err == nil })
}

func TestRecentPromptsFillThePrompt(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f)
	h.generate(t, "an owl made of brass")
	h.waitFor(t, "recent list", func() bool { return len(h.u.Studio.Recent.Options) == 1 })
	h.u.Studio.Prompt.SetText("")
	h.u.Studio.Recent.SetSelectedIndex(0)
	if h.u.Studio.Prompt.Text != "an owl made of brass" {
		t.Fatalf("prompt %q", h.u.Studio.Prompt.Text)
	}
}

func TestCancelARun(t *testing.T) {
	f := newFake(t)
	gate := make(chan struct{}) // never opened: the run waits until cancelled
	f.engine = stepEngine(10, 0, gate)
	h := newHarness(t, f)
	s := h.u.Studio
	h.generate(t, "slow")
	h.waitFor(t, "running", func() bool { return !s.Cancel.Disabled() })
	test.Tap(s.Cancel)
	h.waitFor(t, "cancelled", func() bool { return s.ProgressText.Text == "Cancelled" })
	if !s.Cancel.Disabled() || s.Last != nil {
		t.Fatal("state after cancel")
	}
	// Esc in the prompt cancels too.
	h.generate(t, "slow again")
	h.waitFor(t, "running again", func() bool { return !s.Cancel.Disabled() })
	s.Prompt.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	h.waitFor(t, "cancelled by Esc", func() bool { return s.ProgressText.Text == "Cancelled" })
}

func TestCtrlEnterGenerates(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f)
	test.Type(h.u.Studio.Prompt, "keyboard only")
	h.u.Studio.Prompt.TypedShortcut(&desktopShortcutCtrlEnter)
	h.waitFor(t, "job from Ctrl+Enter", func() bool { return len(f.requestsSeen()) == 1 })
	if f.requestsSeen()[0].Prompt != "keyboard only" {
		t.Fatal(f.requestsSeen()[0].Prompt)
	}
}

func TestQueueTwoJobsMoveAndRemove(t *testing.T) {
	f := newFake(t)
	gate := make(chan struct{})
	f.engine = stepEngine(2, 0, gate)
	h := newHarness(t, f)
	s := h.u.Studio
	h.generate(t, "first")
	h.waitFor(t, "first running", func() bool { return !s.Cancel.Disabled() })
	h.generate(t, "second")
	h.generate(t, "third")
	h.waitFor(t, "three in the queue list", func() bool { return s.Queue.Length() == 3 })
	jobs := s.jobs
	if jobs[0].State != app.JobRunning || jobs[1].State != app.JobQueued || jobs[2].State != app.JobQueued {
		t.Fatalf("states %v %v %v", jobs[0].State, jobs[1].State, jobs[2].State)
	}
	s.move(jobs[2].ID, 0) // third runs next
	if s.jobs[1].Request.Prompt != "third" {
		t.Fatalf("after move: %q", s.jobs[1].Request.Prompt)
	}
	s.remove(s.jobs[2].ID) // drop "second"
	if s.Queue.Length() != 2 {
		t.Fatalf("after remove: %d rows", s.Queue.Length())
	}
	close(gate)
	h.waitFor(t, "both done", func() bool {
		j := f.Jobs()
		return len(j) == 2 && j[0].State == app.JobDone && j[1].State == app.JobDone
	})
	got := []string{}
	for _, r := range f.requestsSeen() {
		got = append(got, r.Prompt)
	}
	if strings.Join(got, ",") != "first,third" {
		t.Fatalf("ran %v", got)
	}
}

func TestUIAnswersWhileASlowEngineRuns(t *testing.T) {
	f := newFake(t)
	// The engine takes 4 s; the bounds below are far under that but loose
	// enough for a loaded 2-core CI machine: a UI that waited for the engine
	// would blow through them by seconds.
	f.engine = stepEngine(20, 200*time.Millisecond, nil)
	h := newHarness(t, f)
	s := h.u.Studio
	start := time.Now()
	h.generate(t, "slow run")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Generate took %v: it must not wait for the engine", d)
	}
	h.waitFor(t, "running", func() bool { return !s.Cancel.Disabled() })
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		test.Type(s.Negative, "x")
		s.Steps.SetValue(float64(10 + i))
		h.u.Tabs.SelectIndex(i % 3)
		if d := time.Since(t0); d > 500*time.Millisecond {
			t.Fatalf("UI interaction %d took %v while the engine ran", i, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.Negative.Text != "xxxxx" || s.Steps.Value != 14 {
		t.Fatalf("inputs during the run: %q %v", s.Negative.Text, s.Steps.Value)
	}
	if s.Last != nil {
		t.Fatal("the run finished too early to prove anything")
	}
	h.waitFor(t, "run ends", func() bool { return s.Last != nil })
}

func TestModelFailingMidQueue(t *testing.T) {
	f := newFake(t)
	f.models = append(f.models, ModelInfo{Name: "broken", Kind: KindSDXLBase, Dir: "broken"})
	h := newHarness(t, f)
	s := h.u.Studio
	h.waitFor(t, "broken in picker", func() bool { return len(s.Model.Options) == 3 })
	for _, o := range s.Model.Options {
		if strings.HasPrefix(o, "broken") {
			s.Model.SetSelected(o)
		}
	}
	h.generate(t, "one")
	s.Model.SetSelectedIndex(0)
	h.generate(t, "two")
	h.waitFor(t, "both finished", func() bool {
		j := f.Jobs()
		return len(j) == 2 && j[0].State.Finished() && j[1].State.Finished()
	})
	j := f.Jobs()
	if j[0].State != app.JobFailed || !strings.Contains(j[0].Error, "load unet /models/broken") || j[1].State != app.JobDone {
		t.Fatalf("jobs %+v", j)
	}
	h.waitFor(t, "queue rows", func() bool { return s.Queue.Length() == 2 })
	if !strings.Contains(s.jobs[0].Error, "no such file") {
		t.Fatalf("queue shows %+v", s.jobs[0])
	}
}

func TestLibraryOnAFullDisk(t *testing.T) {
	f := newFake(t)
	f.saveErr = fmt.Errorf("write /lib/images/x.png: %w", syscall.ENOSPC)
	h := newHarness(t, f)
	s := h.u.Studio
	h.generate(t, "nowhere to go")
	h.waitFor(t, "failure shown", func() bool { return strings.HasPrefix(s.ProgressText.Text, "Failed:") })
	if !strings.Contains(s.ProgressText.Text, "no space left on device") || !strings.Contains(h.u.Status.Text, "no space left") {
		t.Fatalf("progress %q status %q", s.ProgressText.Text, h.u.Status.Text)
	}
	if s.Last != nil {
		t.Fatal("a result shown although nothing was saved")
	}
	f.mu.Lock()
	f.saveErr = nil
	f.mu.Unlock()
	h.generate(t, "space again")
	h.waitFor(t, "next job works", func() bool { return s.Last != nil })
}

func writePNG(t *testing.T, path string, chunks []gallery.TextChunk) {
	t.Helper()
	var buf bytes.Buffer
	png.Encode(&buf, flat(4, 4, color.RGBA{1, 2, 3, 255}))
	b := buf.Bytes()
	if chunks != nil {
		var err error
		if b, err = gallery.SetPNGText(b, chunks); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDroppedFiles(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f)
	h.u.opts.NoDialogs = true
	dir := t.TempDir()

	bad := filepath.Join(dir, "notes.png")
	os.WriteFile(bad, []byte("this is not an image"), 0o644)
	h.u.HandleDrop([]fyne.URI{storage.NewFileURI(bad)})
	h.waitFor(t, "error for the unreadable file", func() bool { return h.u.LastError != "" })
	if !strings.Contains(h.u.LastError, bad) || !strings.Contains(h.u.LastError, "not a readable image") {
		t.Fatalf("error %q", h.u.LastError)
	}
	h.u.LastError = ""
	h.u.HandleDrop([]fyne.URI{storage.NewFileURI(filepath.Join(dir, "gone.png"))})
	h.waitFor(t, "error for a missing file", func() bool { return strings.Contains(h.u.LastError, "gone.png") })

	// A header claiming 10000×10000 (100 MP) is refused before decoding,
	// and a truncated PNG is reported as damaged; the Studio keeps its state.
	huge := filepath.Join(dir, "huge.png")
	var hdr bytes.Buffer
	png.Encode(&hdr, image.NewGray(image.Rect(0, 0, 1, 1)))
	hb := hdr.Bytes()
	hb[16], hb[17], hb[18], hb[19] = 0, 0, 0x27, 0x10 // width 10000
	hb[20], hb[21], hb[22], hb[23] = 0, 0, 0x27, 0x10 // height 10000
	binary.BigEndian.PutUint32(hb[29:33], crc32.ChecksumIEEE(hb[12:29]))
	os.WriteFile(huge, hb, 0o644)
	h.u.LastError = ""
	h.u.HandleDrop([]fyne.URI{storage.NewFileURI(huge)})
	h.waitFor(t, "error for the huge image", func() bool { return h.u.LastError != "" })
	if !strings.Contains(h.u.LastError, "too large: 10000×10000 is 100 megapixels, at most 64") {
		t.Fatalf("huge: %q", h.u.LastError)
	}
	var good bytes.Buffer
	png.Encode(&good, image.NewRGBA(image.Rect(0, 0, 64, 64)))
	corrupt := filepath.Join(dir, "corrupt.png")
	os.WriteFile(corrupt, good.Bytes()[:good.Len()/2], 0o644)
	h.u.LastError = ""
	h.u.HandleDrop([]fyne.URI{storage.NewFileURI(corrupt)})
	h.waitFor(t, "error for the corrupt image", func() bool { return h.u.LastError != "" })
	if !strings.Contains(h.u.LastError, "corrupt.png") || h.u.Studio.initPath != "" {
		t.Fatalf("corrupt: %q, init %q", h.u.LastError, h.u.Studio.initPath)
	}

	plain := filepath.Join(dir, "sketch.png")
	writePNG(t, plain, nil)
	h.u.HandleDrop([]fyne.URI{storage.NewFileURI(plain)})
	h.waitFor(t, "init image", func() bool { return h.u.Studio.initPath == plain })
	r, _ := h.u.Studio.Request()
	if r.InitImage == "" {
		h.u.Studio.Prompt.SetText("x")
		r, _ = h.u.Studio.Request()
	}
	if r.InitImage != plain || r.Strength != 0.6 {
		t.Fatalf("request init %q strength %v", r.InitImage, r.Strength)
	}

	g := gallery.Generation{Engine: "sdxl", Model: "sdxl-base", Prompt: "a dropped castle", NegativePrompt: "fog", Seed: 31337,
		Steps: 22, Scheduler: "heun", Width: 896, Height: 1152, Guidance: 7, Status: gallery.StatusOK, Source: gallery.SourceDiptych}
	chunks, err := gallery.MetadataChunks(g, "")
	if err != nil {
		t.Fatal(err)
	}
	withMeta := filepath.Join(dir, "castle.png")
	writePNG(t, withMeta, chunks)
	h.u.HandleDrop([]fyne.URI{storage.NewFileURI(withMeta)})
	s := h.u.Studio
	h.waitFor(t, "settings from the dropped PNG", func() bool { return strings.HasPrefix(h.u.Status.Text, "Loaded the settings stored in castle.png") })
	if s.Seed.Text != "31337" || s.Steps.Value != 22 || s.Scheduler.Selected != "heun" || s.Width.Value != 896 || s.Negative.Text != "fog" {
		t.Fatalf("applied seed %q steps %v sched %q width %v neg %q", s.Seed.Text, s.Steps.Value, s.Scheduler.Selected, s.Width.Value, s.Negative.Text)
	}

	// The same PNG dropped on the init-image row is the init image, not
	// its settings; dropped beside the row it is its settings again.
	s.selectKind(KindSDXLBase)
	h.pump()
	row := s.InitImageRow()
	if !row.Visible() {
		t.Fatal("no init-image row for SDXL")
	}
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(row)
	inside := at.Add(fyne.NewPos(row.Size().Width/2, row.Size().Height/2))
	s.Seed.SetText("5")
	h.u.HandleDropAt(inside, []fyne.URI{storage.NewFileURI(withMeta)})
	h.waitFor(t, "init image from a drop on its row", func() bool { return s.initPath == withMeta })
	if s.Seed.Text != "5" || !strings.HasPrefix(h.u.Status.Text, "Using castle.png as the init image") {
		t.Fatalf("drop on the row applied settings: seed %q, status %q", s.Seed.Text, h.u.Status.Text)
	}
	h.u.HandleDropAt(fyne.NewPos(at.X, at.Y-40), []fyne.URI{storage.NewFileURI(withMeta)})
	h.waitFor(t, "settings from a drop beside the row", func() bool { return s.Seed.Text == "31337" })
}

// findButton finds a button by its label in o's tree.
func findButton(o fyne.CanvasObject, label string) *widget.Button {
	if b, ok := o.(*widget.Button); ok && b.Text == label {
		return b
	}
	if c, ok := o.(*fyne.Container); ok {
		for _, ch := range c.Objects {
			if b := findButton(ch, label); b != nil {
				return b
			}
		}
	}
	if w, ok := o.(fyne.Widget); ok {
		for _, ch := range test.WidgetRenderer(w).Objects() {
			if b := findButton(ch, label); b != nil {
				return b
			}
		}
	}
	return nil
}

func TestClosingDuringARunAsksThenCancels(t *testing.T) {
	f := newFake(t)
	f.engine = stepEngine(10, 0, make(chan struct{}))
	h := newHarness(t, f)
	s := h.u.Studio
	h.generate(t, "long")
	h.waitFor(t, "running", func() bool { return h.u.Running() != "" })

	h.u.RequestClose()
	top := h.w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("closing during a run did not ask")
	}
	// "No" keeps running.
	test.Tap(findButton(top, "No"))
	select {
	case <-h.quit:
		t.Fatal("quit after No")
	default:
	}
	if h.u.Running() == "" {
		t.Fatal("the job stopped after No")
	}
	h.u.RequestClose()
	top = h.w.Canvas().Overlays().Top()
	test.Tap(findButton(top, "Yes"))
	select {
	case <-h.quit:
	case <-time.After(5 * time.Second):
		t.Fatal("did not quit after Yes")
	}
	h.waitFor(t, "the job cancelled", func() bool { j := f.Jobs(); return len(j) == 1 && j[0].State == app.JobCancelled })
	_ = s
}

func TestClosingWhenIdleQuitsAtOnce(t *testing.T) {
	h := newHarness(t, newFake(t))
	h.u.RequestClose()
	select {
	case <-h.quit:
	case <-time.After(time.Second):
		t.Fatal("no quit")
	}
	if h.w.Canvas().Overlays().Top() != nil {
		t.Fatal("asked although nothing ran")
	}
}

func TestCompareSideBySide(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f)
	c := h.u.Compare
	h.waitFor(t, "compare pickers", func() bool { return c.SDXLModel.Selected != "" && c.JanusModel.Selected != "" })
	test.Type(c.Prompt, "a glass whale")
	test.Tap(c.Run)
	h.waitFor(t, "both sides done", func() bool { return c.Sides[0].img != nil && c.Sides[1].img != nil })
	rs := f.requestsSeen()
	if len(rs) != 2 || rs[0].Model != EngineSDXL || rs[1].Model != EngineJanus || rs[0].Seed != rs[1].Seed || rs[1].Prompt != "a glass whale" {
		t.Fatalf("requests %+v", rs)
	}
	for i, s := range c.Sides {
		if !strings.Contains(s.Info.Text, "Time 1.20 s · peak memory 536.9 MB") || !strings.Contains(s.Info.Text, "Device cpu") || !strings.Contains(s.Info.Text, "seed 777") {
			t.Fatalf("side %d info %q", i, s.Info.Text)
		}
	}
	if c.SavePair.Disabled() || c.SendToRefine.Disabled() {
		t.Fatal("pair actions disabled after both sides finished")
	}
	// The verdict under the pair, and both images the same displayed size.
	if v := c.VerdictText(); v != "SDXL and Janus-Pro took about as long (1.20 s vs 1.20 s) and used about the same memory (536.9 MB)" {
		t.Errorf("verdict %q", v)
	}
	if len(c.Chart.Rows) != 4 || !c.verdictBox.Visible() {
		t.Errorf("chart rows %+v", c.Chart.Rows)
	}
	h.u.Tabs.SelectIndex(1)
	h.w.Resize(fyne.NewSize(1280, 800))
	if a, b := c.Sides[0].Image.Size(), c.Sides[1].Image.Size(); a != b || a.Width < 100 {
		t.Errorf("image cells %v and %v differ", a, b)
	}
	left := c.Sides[0]
	test.Tap(c.Swap)
	if c.Sides[1] != left {
		t.Fatal("swap did not swap")
	}
	c.Mode.SetSelected(modeSlider)
	if !c.overlay.Visible() || c.pair.Visible() || c.Overlay.Image == nil {
		t.Fatal("slider mode not shown")
	}
	// Re-run the Janus side alone with another temperature.
	var jn *compareSide
	for _, s := range c.Sides {
		if s.req.Model == EngineJanus {
			jn = s
		}
	}
	jn.Knob.SetValue(0.5)
	test.Tap(jn.Rerun)
	h.waitFor(t, "re-run", func() bool { return len(f.requestsSeen()) == 3 })
	r := f.requestsSeen()[2]
	if r.Model != EngineJanus || r.Temperature != 0.5 || r.Seed != 777 {
		t.Fatalf("re-run %+v", r)
	}
	f.mu.Lock()
	q := f.finished[len(f.finished)-1]
	f.mu.Unlock()
	_ = q
	h.waitFor(t, "re-run in the pair", func() bool {
		j := f.Jobs()
		return len(j) == 2 && j[1].GroupID == 1 && j[1].GroupIndex == 1
	})
	// The refine is app.Refine of the stored Janus image, at the hybrid's
	// default strength (not the Studio's img2img slider).
	test.Tap(c.SendToRefine)
	h.waitFor(t, "refine job", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.refines) == 1 })
	f.mu.Lock()
	ref := f.refines[0]
	f.mu.Unlock()
	if ref.DraftID != jn.gen.ID || ref.SDXL.Model != EngineSDXL || ref.SDXL.InitImage != "" || ref.Strength != 0 || ref.SDXL.Prompt != "a glass whale" {
		t.Fatalf("refine %+v (Janus row %d)", ref, jn.gen.ID)
	}
	dest := t.TempDir()
	c.SavePairTo(dest)
	h.waitFor(t, "pair saved", func() bool { m, _ := filepath.Glob(filepath.Join(dest, "*.png")); return len(m) == 2 })
}

func TestComposite(t *testing.T) {
	a := flat(10, 4, color.RGBA{255, 0, 0, 255})
	b := flat(5, 2, color.RGBA{0, 0, 255, 255})
	out := Composite(a, b, 0.3)
	if out.Bounds().Dx() != 10 || out.Bounds().Dy() != 4 {
		t.Fatalf("size %v", out.Bounds())
	}
	for x := 0; x < 10; x++ {
		r, _, bl, _ := out.At(x, 2).RGBA()
		wantBlue := x < 3
		if (bl>>8 == 255 && r == 0) != wantBlue {
			t.Fatalf("pixel %d: r %d b %d, blue wanted %v", x, r>>8, bl>>8, wantBlue)
		}
	}
	_ = image.Rect
}

func TestModelsEmptyStateAndDemoInstall(t *testing.T) {
	f := newFake(t)
	f.models = nil
	h := newHarness(t, f)
	m := h.u.Models
	h.waitFor(t, "empty state", func() bool { return m.Empty.Visible() })
	if !h.u.Studio.Generate.Disabled() {
		t.Fatal("Generate enabled with no model")
	}
	demo := findButton(m.Empty, "Install the demo models (they produce noise)")
	if demo == nil {
		t.Fatal("no demo button in the empty state")
	}
	test.Tap(demo)
	h.waitFor(t, "models listed", func() bool { return !m.Empty.Visible() && m.List.Length() == 2 })
	if !strings.Contains(modelLine(m.models[0]), "DEMO MODEL: random weights, produces noise") {
		t.Fatalf("demo not labelled: %q", modelLine(m.models[0]))
	}
	h.waitFor(t, "studio picker", func() bool { return strings.Contains(h.u.Studio.Model.Selected, "(demo: produces noise)") })
	if h.u.Studio.Generate.Disabled() {
		t.Fatal("Generate still disabled")
	}
	h.u.opts.NoDialogs = true
	m.ImportDir("/nope")
	h.waitFor(t, "import error", func() bool { return strings.Contains(h.u.LastError, "import /nope") })
}

func TestJanusOptionsAndRefiner(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f)
	s := h.u.Studio
	s.Refiner.SetChecked(true)
	s.SwitchAt.SetValue(0.7)
	test.Type(s.Prompt, "refined")
	r, err := s.Request()
	if err != nil || r.RefinerDir != "/models/sdxl-refiner" || r.SwitchAt != 0.7 {
		t.Fatalf("refiner request %+v %v", r, err)
	}
	for _, o := range s.Model.Options {
		if strings.HasPrefix(o, "janus-pro-1b") {
			s.Model.SetSelected(o)
		}
	}
	if s.janusBox.Hidden || !s.sdxlBox.Hidden || !s.Refiner.Disabled() {
		t.Fatal("Janus options not shown for a Janus model")
	}
	s.CFG.SetValue(6)
	s.Temperature.SetValue(0.8)
	s.Images.SetValue(3)
	s.Device.SetSelected("CPU")
	r, err = s.Request()
	if err != nil || r.Model != EngineJanus || r.CFG != 6 || r.Temperature != 0.8 || r.Images != 3 || r.Device != "cpu" || r.Width != 0 {
		t.Fatalf("janus request %+v %v", r, err)
	}
	s.Prompt.SetText("  ")
	if _, err := s.Request(); err == nil {
		t.Fatal("empty prompt accepted")
	}
	s.Prompt.SetText("x")
	s.SeedLock.SetChecked(true)
	s.Seed.SetText("twelve")
	if _, err := s.Request(); err == nil || !strings.Contains(err.Error(), `seed "twelve"`) {
		t.Fatalf("bad seed: %v", err)
	}
}

func TestCPUChipBannerAndDiagnostics(t *testing.T) {
	f := newFake(t)
	f.diag = Diagnosis{OnCPU: true, Reason: "cuDNN is missing (libcudnn.so.9 not found)", Report: "System: linux amd64\nCUDA: not usable",
		Verdicts: []Verdict{{Model: "Janus-Pro-1B", Runs: "cpu", Text: "will run on the CPU (16 cores, 31 GB RAM)"}}}
	h := newHarness(t, f)
	// Running on the CPU is information: a calm chip, not the orange banner.
	h.waitFor(t, "chip", func() bool { return h.u.ChipVisible() })
	if h.u.Banner.Visible() {
		t.Fatal("orange banner for a CPU-only machine")
	}
	if h.u.CPUChip.Text != "CPU mode — why?" {
		t.Errorf("chip %q", h.u.CPUChip.Text)
	}
	why := h.u.DiagnosticsText()
	for _, want := range []string{"run on the CPU because cuDNN is missing", "Janus-Pro-1B: will run on the CPU (16 cores"} {
		if !strings.Contains(why, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, why)
		}
	}
	test.Tap(h.u.CopyDiag)
	if got := h.app.Clipboard().Content(); got != f.diag.Report {
		t.Fatalf("clipboard %q", got)
	}
	// Dismissed stays dismissed (it is remembered).
	test.Tap(h.u.DismissChip)
	if h.u.ChipVisible() || !h.app.Preferences().Bool(PrefCPUNoticeDismissed) {
		t.Fatal("dismiss did not hide the chip for good")
	}
	h.u.SetDiagnosis(f.diag)
	if h.u.ChipVisible() {
		t.Fatal("chip back after dismissing")
	}

	// A real failure gets the banner.
	fail := newFake(t)
	fail.diag = Diagnosis{OnCPU: true, Failure: "The ONNX Runtime library was not found, so nothing can be generated: libonnxruntime.so: no such file"}
	h3 := newHarness(t, fail)
	h3.waitFor(t, "banner", func() bool { return h3.u.Banner.Visible() })
	if !strings.Contains(h3.u.BannerText.Text, "ONNX Runtime library was not found") {
		t.Fatalf("banner %q", h3.u.BannerText.Text)
	}

	h2 := newHarness(t, newFake(t))
	time.Sleep(50 * time.Millisecond)
	h2.pump()
	if h2.u.Banner.Visible() || h2.u.ChipVisible() {
		t.Fatal("banner or chip shown on a GPU machine")
	}
}

func TestSettingsViewSaves(t *testing.T) {
	f := newFake(t)
	f.settings = Settings{ModelDirs: []string{"/a", "/b"}, Library: "/lib", Device: "cpu", Theme: "dark", PreviewEvery: 3}
	themes := make(chan string, 1)
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	// UI work from goroutines (the model reload after saving) runs here,
	// on the test goroutine, as the window's thread would run it.
	q := make(chan func(), 1000)
	u := New(f, w, Options{Prefs: a.Preferences(), OnTheme: func(s string) { themes <- s }, Do: func(fn func()) { q <- fn }})
	v := u.Settings
	if v.ModelDirs.Text != "/a\n/b" || v.Device.Selected != "CPU" || v.Theme.Selected != "dark" || v.PreviewEvery.Value != 3 {
		t.Fatalf("loaded %q %q %q %v", v.ModelDirs.Text, v.Device.Selected, v.Theme.Selected, v.PreviewEvery.Value)
	}
	v.ModelDirs.SetText("/a\n\n  /c  \n")
	v.Theme.SetSelected("light")
	v.PreviewEvery.SetValue(0)
	v.Runtime.SetText("/opt/ort/libonnxruntime.so")
	test.Tap(v.Save)
	deadline := time.After(5 * time.Second)
wait:
	for {
		select {
		case th := <-themes:
			if th != "light" {
				t.Fatalf("theme %q", th)
			}
			break wait
		case fn := <-q:
			fn()
		case <-deadline:
			t.Fatal("no theme callback")
		}
	}
	got := f.saved[len(f.saved)-1]
	if strings.Join(got.ModelDirs, ",") != "/a,/c" || got.Theme != "light" || got.PreviewEvery != 0 || got.ORTLib != "/opt/ort/libonnxruntime.so" || got.Device != "cpu" {
		t.Fatalf("saved %+v", got)
	}
}

func TestLayoutIsRemembered(t *testing.T) {
	a := test.NewTempApp(t)
	f := newFake(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	u := New(f, w, Options{Prefs: a.Preferences()})
	u.Tabs.SelectIndex(2)
	u.Studio.Split.SetOffset(0.5)
	w.Resize(fyne.NewSize(1000, 700))
	u.Close()
	if s := WindowSize(a.Preferences()); s.Width != 1000 || s.Height != 700 {
		t.Fatalf("size %v", s)
	}
	w2 := test.NewTempWindow(t, widget.NewLabel(""))
	u2 := New(f, w2, Options{Prefs: a.Preferences()})
	defer u2.Close()
	if u2.Tabs.SelectedIndex() != 2 || u2.Studio.Split.Offset != 0.5 {
		t.Fatalf("restored tab %d split %v", u2.Tabs.SelectedIndex(), u2.Studio.Split.Offset)
	}
	if WindowSize(nil).Width != 1280 {
		t.Fatal("default size")
	}
}

func TestTooltipsOnControls(t *testing.T) {
	h := newHarness(t, newFake(t))
	s := h.u.Studio
	for name, o := range map[string]fyne.CanvasObject{"prompt": s.Prompt, "generate": s.Generate, "cancel": s.Cancel,
		"steps": s.Steps, "seed": s.Seed, "model": s.Model, "search": h.u.History.Search, "copy diagnostics": h.u.CopyDiag} {
		if h.u.Hints.Tip(o) == "" {
			t.Errorf("%s has no tooltip", name)
		}
	}
}

func TestThumbCacheStaysBounded(t *testing.T) {
	c := newThumbCache(3)
	for i := int64(1); i <= 10; i++ {
		c.put(i, flat(1, 1, color.RGBA{}))
	}
	if c.len() != 3 {
		t.Fatalf("%d entries", c.len())
	}
	if _, ok := c.get(10); !ok {
		t.Fatal("newest evicted")
	}
	if _, ok := c.get(1); ok {
		t.Fatal("oldest kept")
	}
}

func TestProgressText(t *testing.T) {
	got := progressText(Progress{Stage: "tokens", Step: 120, Total: 576, Rate: 48.5, ETA: 9400 * time.Millisecond, Elapsed: 65 * time.Second})
	if got != "tokens 120/576 · 48.50 tok/s · ETA 0:09 · elapsed 1:05" {
		t.Fatal(got)
	}
}

func TestUnloadModelsFromSettings(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f)
	test.Tap(h.u.Settings.Unload)
	h.waitFor(t, "unload reported", func() bool { return strings.Contains(h.u.Status.Text, "Unloaded 2 model(s), 7.5 GB freed") })
	f.mu.Lock()
	n := f.unloads
	f.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d unload calls, want 1", n)
	}
}

func TestEngineNames(t *testing.T) {
	if EngineSDXL != string(app.ModelSDXL) || EngineJanus != string(app.ModelJanus) {
		t.Fatalf("ui engine names %q/%q differ from app's %q/%q", EngineSDXL, EngineJanus, app.ModelSDXL, app.ModelJanus)
	}
}
