package ui

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"diptych/gallery"
)

func TestStudioFirstRunLeadsToModels(t *testing.T) {
	f := newFake(t)
	f.models = nil
	f.catalog = []CatalogModel{
		{Name: catalogJanus, Kind: KindJanus, Params: "1B", Size: 2_300_000_000, Downloadable: true},
		{Name: catalogSDXL, Kind: KindSDXLBase, Size: 6_900_000_000, Downloadable: true},
	}
	f.diag = Diagnosis{OnCPU: true, Reason: "no NVIDIA GPU", Verdicts: []Verdict{
		{Model: "SDXL", Runs: "cpu-slow", Text: "needs a CUDA GPU with ~10 GB — none found; the CPU works but takes minutes per image"},
		{Model: "Janus-Pro-1B", Runs: "cpu", Text: "will run on the CPU (16 cores, 31 GB RAM)",
			Estimate: "about 14 s per 384×384 image here (estimated from a 2-core benchmark)"},
	}}
	h := newHarness(t, f)
	s := h.u.Studio
	w := s.Welcome
	h.waitFor(t, "welcome", func() bool {
		return w.content.Visible() && strings.Contains(w.Machine.Text, "Janus-Pro-1B will run on the CPU")
	})
	if s.work.Visible() {
		t.Error("the empty result area shows next to the welcome")
	}
	if !strings.Contains(w.Machine.Text, "31 GB RAM) — about 14 s per 384×384 image here (estimated") {
		t.Errorf("no first-run estimate in the machine lines:\n%s", w.Machine.Text)
	}
	// Once the history has runs, the time seen here replaces the estimate.
	w.setMachine(f.diag, map[string]time.Duration{EngineJanus: 42 * time.Second})
	if !strings.Contains(w.Machine.Text, "31 GB RAM) — about 42.0 s per image here so far") || strings.Contains(w.Machine.Text, "estimated") {
		t.Errorf("history figure not preferred:\n%s", w.Machine.Text)
	}
	if !strings.Contains(w.Machine.Text, "SDXL needs a CUDA GPU with ~10 GB") {
		t.Errorf("machine lines:\n%s", w.Machine.Text)
	}
	h.waitFor(t, "sizes on the buttons", func() bool { return w.DownloadJanus.Text == "Download Janus-Pro-1B (2.3 GB)" })
	if w.DownloadSDXL.Text != "Download SDXL base (6.9 GB)" || w.DownloadSDXL.Disabled() {
		t.Errorf("SDXL button %q disabled %v", w.DownloadSDXL.Text, w.DownloadSDXL.Disabled())
	}
	if !s.Generate.Disabled() {
		t.Error("Generate enabled with no model")
	}
	// Download from the Studio: the Models tab shows the progress and the
	// model lands in the picker.
	test.Tap(w.DownloadJanus)
	if h.u.Tabs.SelectedIndex() != 3 {
		t.Errorf("download went to tab %d", h.u.Tabs.SelectedIndex())
	}
	h.waitFor(t, "model in the picker", func() bool { return strings.HasPrefix(s.Model.Selected, catalogJanus) })
	h.waitFor(t, "welcome gone", func() bool { return !w.content.Visible() && s.work.Visible() })
	// The demo button installs the demo models.
	test.Tap(w.Demo)
	h.waitFor(t, "demo models", func() bool { return len(s.Model.Options) == 3 })
}

func TestStudioControlsLabelledPresetsAndPerEngine(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f)
	s := h.u.Studio
	if !strings.HasPrefix(s.Aspect.Selected, "1:1") || !strings.Contains(s.Aspect.Selected, "1024×1024") {
		t.Errorf("preset at start %q, want the 1:1 1024×1024 preset matching the sliders", s.Aspect.Selected)
	}
	if len(SDXLAspects) != 9 {
		t.Errorf("%d SDXL presets", len(SDXLAspects))
	}
	for _, want := range [][2]int{{1024, 1024}, {1152, 896}, {896, 1152}, {1216, 832}, {832, 1216}, {1344, 768}, {768, 1344}, {1536, 640}, {640, 1536}} {
		s.Width.SetValue(float64(want[0]))
		s.Height.SetValue(float64(want[1]))
		if !strings.Contains(s.Aspect.Selected, "×") || !strings.HasSuffix(s.Aspect.Selected, strings.Join([]string{itoa(want[0]), itoa(want[1])}, "×")) {
			t.Errorf("%v: preset %q", want, s.Aspect.Selected)
		}
	}
	s.Width.SetValue(1000 - 40)
	if s.Aspect.Selected != customAspect {
		t.Errorf("custom size shows %q", s.Aspect.Selected)
	}
	labels := labelTexts(s.content)
	for _, want := range []string{"Prompt", "Negative", "Model", "Size", "Width", "Height", "Steps", "Sampler", "CFG scale", "Refiner", "Seed", "Device", "960 px", "1536 px"} {
		if !labels[want] {
			t.Errorf("no label %q in the Studio", want)
		}
	}
	// SDXL shows its controls; Janus shows its own and the fixed size.
	c := s.content
	on := func(o fyne.CanvasObject) bool { return shownIn(c, o) }
	if !on(s.Steps) || !on(s.Scheduler) || !on(s.Refiner) || on(s.CFG) || on(s.JanusSize) || on(s.Temperature) {
		t.Errorf("SDXL: steps %v scheduler %v refiner %v cfg %v janus size %v", on(s.Steps), on(s.Scheduler), on(s.Refiner), on(s.CFG), on(s.JanusSize))
	}
	s.selectKind(KindJanus)
	if on(s.Steps) || on(s.Scheduler) || on(s.Refiner) || on(s.Strength) || on(s.Negative) || on(s.Width) {
		t.Error("SDXL controls shown for Janus")
	}
	if !on(s.CFG) || !on(s.Temperature) || !on(s.Images) || !on(s.JanusSize) || !strings.Contains(s.JanusSize.Text, "384 × 384 px") {
		t.Error("Janus controls hidden for Janus")
	}
	if !labels["CFG scale"] || !labelTexts(c)["CFG weight"] || !labelTexts(c)["Temperature"] || !labelTexts(c)["Images"] {
		t.Error("Janus rows not labelled")
	}
}

// walkShown calls fn for every object under root that is shown (itself
// and all its ancestors visible), descending into widgets' renderers.
func walkShown(root fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		fn(o)
		switch x := o.(type) {
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(root)
}

func labelTexts(root fyne.CanvasObject) map[string]bool {
	out := map[string]bool{}
	walkShown(root, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok {
			out[l.Text] = true
		}
	})
	return out
}

// shownIn reports whether target is shown under root.
func shownIn(root, target fyne.CanvasObject) bool {
	found := false
	walkShown(root, func(o fyne.CanvasObject) { found = found || o == target })
	return found
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestNothingClippedHeadless opens every tab at 1280×800 and 1920×1080
// in the test driver and checks that no labelled control is cut off.
func TestNothingClippedHeadless(t *testing.T) {
	f := newFake(t)
	seedImages(t, f, 50, 64, 64)
	h := newHarness(t, f)
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject
	for _, size := range []fyne.Size{{Width: 1280, Height: 800}, {Width: 1920, Height: 1080}} {
		h.w.Resize(size)
		for i, tab := range h.u.Tabs.Items {
			h.u.Tabs.SelectIndex(i)
			h.pump()
			for _, kind := range []string{KindSDXLBase, KindJanus} {
				if i == 0 {
					h.u.Studio.selectKind(kind)
				} else if kind == KindJanus {
					continue
				}
				h.w.Content().Refresh()
				for _, c := range ClippedControls(h.w.Content(), h.w.Canvas().Size(), abs) {
					t.Errorf("%v %s (%s): %s", size, tab.Text, kind, c)
				}
			}
		}
	}
}

func TestCompareVerdictInWords(t *testing.T) {
	gen := func(engine string, total time.Duration, mem int64) gallery.Generation {
		return gallery.Generation{Engine: engine, PeakMemoryBytes: mem,
			Timings: []gallery.StageTiming{{Stage: "encode", Duration: total / 4}, {Stage: "total", Duration: total}}}
	}
	sd := gen(EngineSDXL, 21400*time.Millisecond, 9_300_000_000)
	jn := gen(EngineJanus, 5100*time.Millisecond, 7_200_000_000)
	if got, want := CompareVerdict(sd, jn), "Janus-Pro was 4.2× faster (5.10 s vs 21.4 s) and used 2.1 GB less memory"; got != want {
		t.Errorf("verdict %q\nwant    %q", got, want)
	}
	slowBig := gen(EngineJanus, 72*time.Second, 12_000_000_000)
	if got, want := CompareVerdict(sd, slowBig), "SDXL was 3.4× faster (21.4 s vs 1 min 12 s) and used 2.7 GB less memory"; got != want {
		t.Errorf("verdict %q, want %q", got, want)
	}
	fastBig := gen(EngineJanus, 273*time.Millisecond, 12_000_000_000)
	if got := CompareVerdict(sd, fastBig); !strings.Contains(got, "(273 ms vs 21.4 s) but used 2.7 GB more memory") {
		t.Errorf("verdict %q", got)
	}
	if CompareVerdict(gallery.Generation{}, jn) != "" {
		t.Error("a verdict without a time")
	}
	c := newVerdictChart()
	c.Set(sd, jn)
	if len(c.Rows) != 4 || c.Rows[0].Frac != 1 || c.Rows[1].Value != "5.10 s" || c.Rows[1].Frac > 0.25 {
		t.Errorf("chart %+v", c.Rows)
	}
}
