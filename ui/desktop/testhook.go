//go:build cgo && guitest

package desktop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"diptych/app"
	"diptych/gallery"
	"diptych/ui"
)

// Only guitest builds (the real-window test builds with -tags guitest)
// carry the test hook; release binaries have neither it nor its variables.

// TestHookEnv names a file: when set, the window installs the demo models,
// runs one small generation through the Studio exactly as a user would
// (picker, prompt, sliders, Generate) and writes a HookStatus there. The
// real-window test uses it to drive the app under Xvfb.
const TestHookEnv = "DIPTYCH_GUI_TEST_HOOK"

// ShotsEnv names a folder: with it set as well, the hook also opens every
// view at 1280×800 (Studio empty and with an image, Compare with a pair,
// History with 50 rows, the viewer, Models, Settings), screenshots each
// into the folder and lists the controls it finds clipped.
const ShotsEnv = "DIPTYCH_GUI_SHOTS"

func init() {
	testHook = func(u *ui.UI, b *Backend, w fyne.Window) {
		if path := os.Getenv(TestHookEnv); path != "" {
			go runTestHook(path, os.Getenv(ShotsEnv), u, b, w)
		}
	}
}

type hook struct {
	u     *ui.UI
	b     *Backend
	w     fyne.Window
	shots string
	st    HookStatus
}

func runTestHook(path, shots string, u *ui.UI, b *Backend, w fyne.Window) {
	write := func(s HookStatus) {
		data, _ := json.Marshal(s)
		tmp := path + ".tmp"
		if os.WriteFile(tmp, data, 0o644) == nil {
			os.Rename(tmp, path)
		}
	}
	h := &hook{u: u, b: b, w: w, shots: shots}
	if err := h.run(); err != nil {
		h.st.State, h.st.Error = "failed", err.Error()
	}
	write(h.st)
}

func (h *hook) settle(d time.Duration) {
	time.Sleep(d)
	fyne.DoAndWait(func() {}) // let queued UI work run
	time.Sleep(300 * time.Millisecond)
}

func (h *hook) waitUI(what string, limit time.Duration, cond func() bool) error {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(150 * time.Millisecond) {
		ok := false
		fyne.DoAndWait(func() { ok = cond() })
		if ok {
			return nil
		}
	}
	return fmt.Errorf("timed out waiting for %s", what)
}

// shot captures the window into NAME.png and checks for clipped controls
// (in the window content, plus extra roots such as the viewer overlay).
func (h *hook) shot(name string, extra ...fyne.CanvasObject) error {
	if h.shots == "" {
		return nil
	}
	h.settle(700 * time.Millisecond)
	s := Shot{Name: name}
	fyne.DoAndWait(func() {
		c := h.w.Canvas()
		abs := fyne.CurrentApp().Driver().AbsolutePositionForObject
		roots := append([]fyne.CanvasObject{c.Content()}, extra...)
		for _, r := range roots {
			for _, cl := range ui.ClippedControls(r, c.Size(), abs) {
				s.Clipped = append(s.Clipped, cl.String())
			}
			s.Checked += ui.CountControls(r)
		}
	})
	// The X server's picture of the window (the GL canvas capture comes
	// back blank under Xvfb's software GL): the window sits at 0,0.
	raw := filepath.Join(os.TempDir(), fmt.Sprintf("diptych-shot-%d.png", os.Getpid()))
	if out, err := exec.Command("import", "-window", "root", "-crop", "1280x800+0+0", "+repage", raw).CombinedOutput(); err != nil {
		return fmt.Errorf("screenshot %s: import: %v %s", name, err, out)
	}
	defer os.Remove(raw)
	f, err := os.Open(raw)
	if err != nil {
		return err
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	var sz fyne.Size
	fyne.DoAndWait(func() { sz = h.w.Canvas().Size() })
	if sz.Width != 1280 || sz.Height != 800 {
		s.Clipped = append(s.Clipped, fmt.Sprintf("the window is %v×%v, not 1280×800: the view needs more room", sz.Width, sz.Height))
	}
	s.Width, s.Height = img.Bounds().Dx(), img.Bounds().Dy()
	s.Path = filepath.Join(h.shots, name+".png")
	if err := writeSmallPNG(s.Path, img); err != nil {
		return err
	}
	h.st.Shots = append(h.st.Shots, s)
	return nil
}

// writeSmallPNG writes img with a 256-colour palette (no dithering), which
// keeps UI screenshots to a few hundred kilobytes.
func writeSmallPNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	pal := image.NewPaletted(img.Bounds(), uiPalette(img))
	draw.Draw(pal, pal.Bounds(), img, img.Bounds().Min, draw.Src)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, pal); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// uiPalette is the 200 most frequent colours of img (quantised to 5 bits a
// channel) plus a 6×6×6 cube for everything else.
func uiPalette(img image.Image) color.Palette {
	counts := map[[3]uint8]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			counts[[3]uint8{uint8(r>>8) &^ 7, uint8(g>>8) &^ 7, uint8(bl>>8) &^ 7}]++
		}
	}
	type kv struct {
		c [3]uint8
		n int
	}
	var all []kv
	for c, n := range counts {
		all = append(all, kv{c, n})
	}
	// Partial selection sort of the top 200 is plenty fast for a screenshot.
	var pal color.Palette
	for i := 0; i < 200 && i < len(all); i++ {
		best := i
		for j := i + 1; j < len(all); j++ {
			if all[j].n > all[best].n {
				best = j
			}
		}
		all[i], all[best] = all[best], all[i]
		c := all[i].c
		pal = append(pal, color.NRGBA{c[0] | c[0]>>5, c[1] | c[1]>>5, c[2] | c[2]>>5, 255})
	}
	for r := 0; r < 6 && len(pal) < 256; r++ {
		for g := 0; g < 6 && len(pal) < 256; g++ {
			for bl := 0; bl < 6 && len(pal) < 256; bl++ {
				pal = append(pal, color.NRGBA{uint8(r * 51), uint8(g * 51), uint8(bl * 51), 255})
			}
		}
	}
	return pal
}

func (h *hook) run() error {
	ctx := context.Background()
	u, b := h.u, h.b
	if h.shots != "" {
		fyne.DoAndWait(func() { h.w.Resize(fyne.NewSize(1280, 800)) })
		// The first run: no model yet, the doctor's answer shown.
		if err := h.waitUI("the diagnosis", time.Minute, func() bool {
			return !strings.HasPrefix(u.Studio.Welcome.Machine.Text, "Checking")
		}); err != nil {
			return err
		}
		if err := h.shot("studio-empty"); err != nil {
			return err
		}
	}
	if _, err := b.InstallDemoModels(ctx); err != nil {
		return err
	}
	fyne.Do(u.LoadModels)
	var model string
	if err := h.waitUI("the demo SDXL model in the picker", time.Minute, func() bool {
		for _, o := range u.Studio.Model.Options {
			if strings.HasPrefix(o, "demo-sdxl-tiny") {
				u.Studio.Model.SetSelected(o)
				model = o
			}
		}
		return model != ""
	}); err != nil {
		return err
	}
	h.st.Model = model
	final := make(chan ui.Event, 4)
	unsub := b.Subscribe(func(e ui.Event) {
		if e.Kind == app.EventDone || e.Kind == app.EventFailed || e.Kind == app.EventCancelled {
			select {
			case final <- e:
			default:
			}
		}
	})
	defer unsub()
	fyne.DoAndWait(func() {
		s := u.Studio
		s.Prompt.SetText("a lighthouse on a cliff at dusk (demo model: noise)")
		s.Negative.SetText("blurry")
		s.Width.SetValue(256)
		s.Height.SetValue(256)
		s.Steps.SetValue(4)
		s.Seed.SetText("42")
		s.SeedLock.SetChecked(true)
		s.Device.SetSelected("CPU")
		s.Generate.OnTapped()
	})
	select {
	case e := <-final:
		h.st.State, h.st.Error = string(e.Job.State), e.Err
		if len(e.Generations) > 0 && e.Generations[0].Image != nil {
			h.st.GenerationID = e.Generations[0].ID
			h.st.Image = b.Path(e.Generations[0].Image.Path)
		}
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("the generation did not finish within 5 minutes")
	}
	time.Sleep(1500 * time.Millisecond) // let the result render
	if h.shots == "" || h.st.State != "done" {
		return nil
	}
	return h.views(ctx, final)
}

// views screenshots every other view.
func (h *hook) views(ctx context.Context, final chan ui.Event) error {
	u, b := h.u, h.b
	if err := h.shot("studio-image"); err != nil {
		return err
	}
	// Compare: one pair on the demo models.
	fyne.DoAndWait(func() {
		u.SelectTab(1)
		u.Compare.Prompt.SetText("a harbour at night, lanterns on the water (demo models: noise)")
		u.Compare.Seed.SetText("7")
		u.Compare.Run.OnTapped()
	})
	select { // a compare is one job (app.Compare), so one final event
	case e := <-final:
		if e.Kind != app.EventDone {
			return fmt.Errorf("the compare pair ended %s: %s", e.Kind, e.Err)
		}
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("the compare pair did not finish")
	}
	if err := h.waitUI("the compare verdict", time.Minute, func() bool { return u.Compare.VerdictText() != "" }); err != nil {
		return err
	}
	if err := h.shot("compare"); err != nil {
		return err
	}
	// History with 50 rows: the three runs plus 47 storyboard frames.
	if err := seedFrames(ctx, b, 47); err != nil {
		return err
	}
	fyne.DoAndWait(func() {
		u.SelectTab(2)
		u.History.Reload()
	})
	if err := h.waitUI("50 rows", time.Minute, func() bool { return u.History.Rows() >= 50 }); err != nil {
		return err
	}
	fyne.DoAndWait(func() { u.History.Grid.Select(0) })
	if err := h.shot("history"); err != nil {
		return err
	}
	fyne.DoAndWait(func() { u.History.OpenAt(3) })
	if err := h.waitUI("the viewer", time.Minute, func() bool { return u.Viewer.Visible() && u.Viewer.Image.Image() != nil }); err != nil {
		return err
	}
	if err := h.shot("viewer", u.Viewer.Content()); err != nil {
		return err
	}
	fyne.DoAndWait(func() { u.Viewer.Hide(); u.SelectTab(3) })
	if err := h.shot("models"); err != nil {
		return err
	}
	fyne.DoAndWait(func() { u.SelectTab(4) })
	if err := h.shot("settings"); err != nil {
		return err
	}
	fyne.DoAndWait(func() { u.SelectTab(0); u.Studio.SelectKind(ui.KindJanus) })
	return h.shot("studio-janus")
}

// seedFrames saves n colourful frames (gradients, not noise) with varied
// prompts and seeds, some on a board, as a storyboard artist's history.
func seedFrames(ctx context.Context, b *Backend, n int) error {
	board, err := b.CreateBoard(ctx, "Storyboard")
	if err != nil {
		return err
	}
	shots := []string{"wide establishing shot of a fishing village at dawn", "close-up of an old sailor's weathered hands",
		"a red kite over the cliffs, low angle", "interior of a lantern-lit workshop", "two children running along the pier",
		"storm clouds rolling over the harbour", "a lighthouse beam cutting through fog", "market stalls with fruit and nets"}
	var ids []int64
	for i := 0; i < n; i++ {
		img := frame(256, 256, i)
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return err
		}
		engine, model, w := "sdxl", "sdxl-base", 1216
		if i%3 == 1 {
			engine, model, w = "janus", "janus-pro-1b", 384
		}
		g := gallery.Generation{Engine: engine, Model: model, Prompt: fmt.Sprintf("%s, shot %d", shots[i%len(shots)], i+1),
			Seed: uint64(1000 + i*37), Steps: 30, Scheduler: "euler_a", Width: w, Height: 832, Guidance: 5, Status: gallery.StatusOK,
			Device: "cpu", ExecutionProvider: "CPU", Timings: []gallery.StageTiming{{Stage: "total", Duration: time.Duration(5+i%20) * time.Second}}}
		out, err := b.Save(ctx, gallery.SaveRequest{Generation: g, PNG: buf.Bytes()})
		if err != nil {
			return err
		}
		if i%4 == 0 {
			ids = append(ids, out.ID)
		}
	}
	_, err = b.BoardAdd(ctx, board.Name, ids...)
	return err
}

// frame is a soft two-colour gradient with a sun, different for each i.
func frame(w, h, i int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	hue := float64(i) * 0.13
	top := hsv(hue, 0.55, 0.95)
	bot := hsv(hue+0.45, 0.65, 0.35)
	cx, cy, r := float64(w)*(0.25+0.5*math.Mod(float64(i)*0.37, 1)), float64(h)*0.38, float64(w)/9
	for y := 0; y < h; y++ {
		t := float64(y) / float64(h)
		for x := 0; x < w; x++ {
			c := color.NRGBA{lerp(top.R, bot.R, t), lerp(top.G, bot.G, t), lerp(top.B, bot.B, t), 255}
			if d := math.Hypot(float64(x)-cx, float64(y)-cy); d < r {
				c = color.NRGBA{255, 236, 190, 255}
			}
			if y > h*2/3+int(8*math.Sin(float64(x)/17+float64(i))) {
				c = color.NRGBA{c.R / 2, c.G / 2, c.B/2 + 30, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func lerp(a, b uint8, t float64) uint8 { return uint8(float64(a)*(1-t) + float64(b)*t) }

func hsv(h, s, v float64) color.NRGBA {
	h = math.Mod(h, 1) * 6
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h, 2)-1))
	var r, g, b float64
	switch int(h) {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	return color.NRGBA{uint8((r + m) * 255), uint8((g + m) * 255), uint8((b + m) * 255), 255}
}
