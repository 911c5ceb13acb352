package ui

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/disintegration/imaging"

	"diptych/app"
	"diptych/engine/format"
	"diptych/gallery"
)

// compareSide is one engine's half of the Compare view.
type compareSide struct {
	Title  *widget.Label
	Image  *canvas.Image
	Info   *widget.Label
	Status *widget.Label
	Rerun  *widget.Button
	// Steps (SDXL) or Temperature (Janus) for a re-run with other settings.
	Knob      *widget.Slider
	KnobLabel *widget.Label

	job JobID
	req Request
	gen *gallery.Generation
	img image.Image
}

// CompareView runs one prompt on SDXL and Janus-Pro at the same seed and
// shows the two results side by side or overlaid with a slider.
type CompareView struct {
	u *UI

	Prompt, Negative *keyEntry
	Seed             *widget.Entry
	SDXLModel        *widget.Select
	JanusModel       *widget.Select
	Run              *widget.Button
	Swap             *widget.Button
	Mode             *widget.RadioGroup
	Reveal           *widget.Slider
	SendToRefine     *widget.Button
	SavePair         *widget.Button
	Overlay          *canvas.Image
	// Verdict says which side was faster and lighter; Chart shows it.
	Verdict    *widget.Label
	Chart      *VerdictChart
	verdictBox *fyne.Container

	Sides   [2]*compareSide // shown left, right
	groupID int64
	// job is the compare job (app.Studio.Compare) whose sides are shown.
	job     JobID
	swapped bool
	models  map[string]ModelInfo

	pair                    *fyne.Container
	titles, images, details *fyne.Container
	overlay                 *fyne.Container
	content                 fyne.CanvasObject
}

const (
	modeSideBySide = "Side by side"
	modeSlider     = "Slider"
)

func newCompareView(u *UI) *CompareView {
	v := &CompareView{u: u, models: map[string]ModelInfo{}}
	h := u.Hints
	v.Prompt = newKeyEntry(true)
	v.Prompt.SetPlaceHolder("One prompt for both engines…")
	v.Prompt.SetMinRowsVisible(2)
	v.Negative = newKeyEntry(false)
	v.Negative.SetPlaceHolder("Negative prompt")
	v.Prompt.onGenerate, v.Negative.onGenerate = v.run, v.run
	v.Seed = widget.NewEntry()
	v.Seed.SetText("-1")
	v.SDXLModel = widget.NewSelect(nil, nil)
	v.JanusModel = widget.NewSelect(nil, nil)
	v.Run = widget.NewButtonWithIcon("Compare", theme.MediaPlayIcon(), v.run)
	v.Run.Importance = widget.HighImportance
	v.Swap = widget.NewButtonWithIcon("Swap", theme.ViewRefreshIcon(), v.swap)
	v.Mode = widget.NewRadioGroup([]string{modeSideBySide, modeSlider}, func(string) { v.layoutMode() })
	v.Mode.Horizontal = true
	v.Reveal = widget.NewSlider(0, 1)
	v.Reveal.Step = 0.01
	v.Reveal.OnChanged = func(float64) { v.composite() }
	v.Reveal.SetValue(0.5)
	v.SendToRefine = widget.NewButtonWithIcon("Send Janus image to SDXL refine", theme.NavigateNextIcon(), v.sendToRefine)
	v.SavePair = widget.NewButtonWithIcon("Save pair…", theme.DocumentSaveIcon(), v.savePair)
	v.Overlay = canvas.NewImageFromImage(nil)
	v.Overlay.FillMode = canvas.ImageFillContain

	for i, name := range []string{"SDXL", "Janus-Pro"} {
		s := &compareSide{Title: widget.NewLabelWithStyle(name, fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
			Image: canvas.NewImageFromImage(nil), Info: widget.NewLabel(""), Status: widget.NewLabel("")}
		s.Image.FillMode = canvas.ImageFillContain
		s.Image.SetMinSize(fyne.NewSize(128, 128))
		s.Info.Wrapping = fyne.TextWrapWord
		s.Rerun = widget.NewButtonWithIcon("Re-run this side", theme.MediaReplayIcon(), func() { v.rerun(s) })
		s.Rerun.Disable()
		if i == 0 {
			s.Knob, s.KnobLabel = newSlider(1, 100, 1, 30, func(f float64) string { return fmt.Sprintf("%d", int(f)) })
		} else {
			s.Knob, s.KnobLabel = newSlider(0.1, 1.5, 0.05, 1, func(f float64) string { return fmt.Sprintf("%.2f", f) })
		}
		v.Sides[i] = s
	}
	v.SendToRefine.Disable()
	v.SavePair.Disable()

	// Titles, images and details sit in three rows shared by both sides,
	// so the two images always get the same displayed size.
	bottom := func(s *compareSide) fyne.CanvasObject {
		return container.NewVBox(s.Status, s.Info, field(map[bool]string{true: "Steps", false: "Temperature"}[s == v.Sides[0]], s.Knob,
			container.NewHBox(s.KnobLabel, h.With(s.Rerun, "Run this side again with this setting (same seed, same pair)"))))
	}
	v.titles = container.NewGridWithColumns(2, v.Sides[0].Title, v.Sides[1].Title)
	v.images = container.NewGridWithColumns(2, v.Sides[0].Image, v.Sides[1].Image)
	v.details = container.NewGridWithColumns(2, bottom(v.Sides[0]), bottom(v.Sides[1]))
	v.pair = container.NewBorder(v.titles, v.details, nil, nil, v.images)
	v.Verdict = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.Verdict.Wrapping = fyne.TextWrapWord
	v.Chart = newVerdictChart()
	v.verdictBox = container.NewVBox(widget.NewSeparator(), v.Verdict, v.Chart.content)
	v.verdictBox.Hide()
	v.overlay = container.NewBorder(nil, h.With(v.Reveal, "Drag to reveal the right image over the left"), nil, nil, v.Overlay)
	v.overlay.Hide()

	form := container.NewVBox(
		h.With(v.Prompt, "The prompt both engines get (Ctrl+Enter runs)"),
		h.With(v.Negative, "Negative prompt (SDXL)"),
		container.NewGridWithColumns(3,
			container.NewBorder(nil, nil, widget.NewLabel("SDXL"), nil, h.With(v.SDXLModel, "SDXL model")),
			container.NewBorder(nil, nil, widget.NewLabel("Janus"), nil, h.With(v.JanusModel, "Janus-Pro model")),
			container.NewBorder(nil, nil, widget.NewLabel("Seed"), nil, h.With(v.Seed, "Shared seed (-1 = random, drawn once for both)"))),
		container.NewHBox(h.With(v.Run, "Queue both engines on this prompt"),
			h.With(v.Swap, "Swap the left and right images"),
			h.With(v.Mode, "Side by side, or one over the other with a slider"),
			h.With(v.SendToRefine, "Refine the Janus image with SDXL (image to image)"),
			h.With(v.SavePair, "Export both images and their settings to a folder")),
	)
	v.Mode.SetSelected(modeSideBySide)
	v.content = container.NewBorder(form, v.verdictBox, nil, nil, container.NewStack(v.pair, v.overlay))
	return v
}

// SetModels fills both model pickers.
func (v *CompareView) SetModels(ms []ModelInfo) {
	var sd, jn []string
	v.models = map[string]ModelInfo{}
	for _, m := range ms {
		if m.Problem != "" {
			continue
		}
		l := modelLabel(m)
		v.models[l] = m
		switch m.Kind {
		case KindSDXLBase:
			sd = append(sd, l)
		case KindJanus:
			jn = append(jn, l)
		}
	}
	for _, p := range []struct {
		s    *widget.Select
		opts []string
	}{{v.SDXLModel, sd}, {v.JanusModel, jn}} {
		p.s.SetOptions(p.opts)
		if _, ok := v.models[p.s.Selected]; !ok && len(p.opts) > 0 {
			p.s.SetSelected(p.opts[0])
		}
	}
}

func (v *CompareView) run() {
	prompt := strings.TrimSpace(v.Prompt.Text)
	if prompt == "" {
		v.u.showError(errors.New("compare: write a prompt first"))
		return
	}
	sd, ok1 := v.models[v.SDXLModel.Selected]
	jn, ok2 := v.models[v.JanusModel.Selected]
	if !ok1 || !ok2 {
		v.u.showError(errors.New("compare needs an SDXL model and a Janus-Pro model: install them in the Models tab (the demo models work)"))
		return
	}
	seed, err := strconv.ParseInt(strings.TrimSpace(v.Seed.Text), 10, 64)
	if err != nil {
		v.u.showError(fmt.Errorf("compare: seed %q: expected a whole number (-1 = random)", v.Seed.Text))
		return
	}
	base := v.u.Studio
	sreq := Request{Model: app.ModelSDXL, ModelDir: sd.Dir, Prompt: prompt, Negative: strings.TrimSpace(v.Negative.Text), Seed: seed,
		Width: int(base.Width.Value), Height: int(base.Height.Value), Steps: int(v.sdxlSide().Knob.Value),
		Scheduler: base.Scheduler.Selected, Guidance: round2(base.Guidance.Value), Device: deviceValue(base.Device.Selected)}
	jreq := Request{Model: app.ModelJanus, ModelDir: jn.Dir, CFG: round2(base.CFG.Value), Temperature: round2(v.janusSide().Knob.Value), Images: 1,
		Device: sreq.Device}
	go func() {
		id, err := v.u.b.Compare(app.CompareRequest{SDXL: sreq, Janus: jreq})
		v.u.do(func() {
			if err != nil {
				v.u.showError(err)
				return
			}
			v.job, v.groupID = id, 0
			if v.swapped {
				v.swap()
			}
			for i, s := range v.Sides {
				s.job, s.gen, s.img = "", nil, nil
				s.req = sreq
				if i == 1 {
					s.req = jreq
				}
				s.Image.Image = nil
				s.Image.Refresh()
				s.Info.SetText("")
				s.Status.SetText("Queued")
				s.Rerun.Disable()
			}
			v.SendToRefine.Disable()
			v.SavePair.Disable()
			v.u.setStatus("Compare queued")
		})
	}()
}

// side returns the side showing job id.
func (v *CompareView) side(id JobID) *compareSide {
	for _, s := range v.Sides {
		if s.job == id && id != "" {
			return s
		}
	}
	return nil
}

func (v *CompareView) onEvent(e Event) {
	if e.Job.ID == v.job && v.job != "" {
		v.onCompareEvent(e)
		return
	}
	s := v.side(e.Job.ID)
	if s == nil {
		return
	}
	switch e.Kind {
	case app.EventStarted:
		s.req = e.Job.Request
		s.Status.SetText("Running…")
	case app.EventProgress:
		v.showProgress(s, e.Progress)
	case app.EventDone:
		s.req = e.Job.Request
		s.Rerun.Enable()
		if len(e.Generations) > 0 {
			v.showSide(s, e.Generations[0])
		}
	case app.EventFailed, app.EventCancelled:
		s.req = e.Job.Request
		s.Status.SetText(string(e.Job.State) + ": " + e.Err)
		s.Rerun.Enable()
	}
}

// onCompareEvent follows the compare job: progress and stored rows say which
// side (0 SDXL, 1 Janus-Pro) they are about.
func (v *CompareView) onCompareEvent(e Event) {
	sideAt := func(i int) *compareSide {
		if i < 0 || i > 1 {
			return nil
		}
		if v.swapped {
			i ^= 1
		}
		return v.Sides[i]
	}
	if c := e.Job.Compare; c != nil {
		sideAt(0).req, sideAt(1).req = c.SDXL, c.Janus // as prepared: one prompt, one seed
	}
	switch e.Kind {
	case app.EventStarted:
		sideAt(0).Status.SetText("Running…")
		sideAt(1).Status.SetText("Waiting for SDXL…")
	case app.EventProgress:
		if s := sideAt(e.Side); s != nil {
			v.showProgress(s, e.Progress)
		}
	case app.EventSideDone:
		if s := sideAt(e.Side); s != nil && len(e.Generations) > 0 {
			v.groupID = e.Generations[0].GroupID
			v.showSide(s, e.Generations[0])
		}
	case app.EventDone, app.EventFailed, app.EventCancelled:
		for i, g := range e.Generations {
			if g.GroupID != 0 {
				v.groupID = g.GroupID
			}
			if s := sideAt(g.GroupIndex); s != nil && i < 2 {
				v.showSide(s, g)
			}
		}
		for i := range 2 {
			s := sideAt(i)
			s.Rerun.Enable()
			if s.gen == nil && e.Kind != app.EventDone {
				s.Status.SetText(string(e.Job.State) + ": " + e.Err)
			}
		}
		v.updateButtons()
		v.updateVerdict()
	}
}

func (v *CompareView) showProgress(s *compareSide, p Progress) {
	s.Status.SetText(progressText(p))
	if p.Preview != nil {
		s.Image.Image = p.Preview
		s.Image.Refresh()
	}
}

// showSide shows a stored row on s: its settings, or why it failed, and its
// image loaded off the UI goroutine.
func (v *CompareView) showSide(s *compareSide, g gallery.Generation) {
	s.gen = &g
	if g.Status == gallery.StatusFailed {
		s.Status.SetText("Failed: " + g.Error)
		s.Info.SetText("")
		v.updateButtons()
		v.updateVerdict()
		return
	}
	s.Status.SetText("Done")
	s.Info.SetText(sideInfo(g))
	if g.Image != nil {
		path := v.u.b.Path(g.Image.Path)
		go func() {
			img, err := app.LoadImage(path)
			v.u.do(func() {
				if err != nil {
					s.Status.SetText(err.Error())
					return
				}
				s.img = img
				s.Image.Image = img
				s.Image.Refresh()
				v.composite()
			})
		}()
	}
	v.updateButtons()
	v.updateVerdict()
}

func sideInfo(g gallery.Generation) string {
	dev := g.Device
	if g.ExecutionProvider != "" {
		dev += " (" + g.ExecutionProvider + ")"
	}
	mem := "—"
	if g.PeakMemoryBytes > 0 {
		mem = format.Bytes(g.PeakMemoryBytes)
	}
	return fmt.Sprintf("%s · seed %d · %d×%d\nTime %s · peak memory %s\nDevice %s", g.Model, g.Seed, g.Width, g.Height,
		format.Duration(totalTime(g)), mem, dev)
}

// VerdictText is the verdict line under the pair ("" until both ran).
func (v *CompareView) VerdictText() string { return v.Verdict.Text }

// updateVerdict writes the verdict and the chart once both sides are done.
func (v *CompareView) updateVerdict() {
	a, b := v.Sides[0].gen, v.Sides[1].gen
	if a == nil || b == nil {
		v.Verdict.SetText("")
		v.Chart.Clear()
		v.verdictBox.Hide()
		return
	}
	v.Verdict.SetText(CompareVerdict(*a, *b))
	v.Chart.Set(*a, *b)
	v.verdictBox.Show()
}

func (v *CompareView) updateButtons() {
	var jn *compareSide
	for _, s := range v.Sides {
		if s.req.Model == app.ModelJanus {
			jn = s
		}
	}
	if jn != nil && jn.gen != nil && jn.gen.Image != nil {
		v.SendToRefine.Enable()
	}
	if v.Sides[0].gen != nil && v.Sides[1].gen != nil {
		v.SavePair.Enable()
	}
}

// rerun queues a side again in the same pair with its knob's setting.
func (v *CompareView) rerun(s *compareSide) {
	if s.req.Prompt == "" {
		return
	}
	r := s.req
	index := 0
	if r.Model == app.ModelJanus {
		r.Temperature = round2(s.Knob.Value)
		index = 1
	} else {
		r.Steps = int(s.Knob.Value)
	}
	if s.gen != nil {
		r.Seed = int64(s.gen.Seed)
	}
	s.job = v.u.b.SubmitToGroup(r, v.groupID, index)
	s.Status.SetText("Queued again")
	s.Rerun.Disable()
}

func (v *CompareView) swap() {
	v.Sides[0], v.Sides[1] = v.Sides[1], v.Sides[0]
	v.swapped = !v.swapped
	// Move the widgets too: each row of the pair in the new order.
	for _, row := range []*fyne.Container{v.titles, v.images, v.details} {
		row.Objects[0], row.Objects[1] = row.Objects[1], row.Objects[0]
		row.Refresh()
	}
	v.composite()
	v.updateVerdict()
}

func (v *CompareView) layoutMode() {
	if v.pair == nil {
		return
	}
	if v.Mode.Selected == modeSlider {
		v.pair.Hide()
		v.overlay.Show()
		v.composite()
	} else {
		v.overlay.Hide()
		v.pair.Show()
	}
}

// composite draws the left image with the right one revealed up to the
// slider, both scaled to the left image's size.
func (v *CompareView) composite() {
	if v.Overlay == nil || v.Sides[0] == nil || v.Sides[1] == nil {
		return
	}
	a, b := v.Sides[0].img, v.Sides[1].img
	if a == nil || b == nil {
		return
	}
	v.Overlay.Image = Composite(a, b, v.Reveal.Value)
	v.Overlay.Refresh()
}

// Composite returns a at a's size with the part left of frac×width taken
// from b scaled to the same size.
func Composite(a, b image.Image, frac float64) image.Image {
	ab := a.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, ab.Dx(), ab.Dy()))
	draw.Draw(out, out.Bounds(), a, ab.Min, draw.Src)
	if b.Bounds().Dx() != ab.Dx() || b.Bounds().Dy() != ab.Dy() {
		b = imaging.Resize(b, ab.Dx(), ab.Dy(), imaging.Linear)
	}
	cut := int(frac*float64(ab.Dx()) + 0.5)
	draw.Draw(out, image.Rect(0, 0, cut, ab.Dy()), b, b.Bounds().Min, draw.Src)
	return out
}

// sendToRefine queues "Janus draft → SDXL refine" of the Janus image
// (app.Refine, the same hybrid side `diptych compare --hybrid` runs, at the
// same default strength), stored in the pair's group as its third image.
func (v *CompareView) sendToRefine() {
	var jn, sd *compareSide
	for _, s := range v.Sides {
		if s.req.Model == app.ModelJanus {
			jn = s
		} else {
			sd = s
		}
	}
	if jn == nil || jn.gen == nil || jn.gen.Image == nil || jn.gen.Status == gallery.StatusFailed || sd == nil {
		return
	}
	r := sd.req
	if r.Prompt == "" {
		r = v.u.Studio.requestOrZero()
	}
	r.InitImage, r.Strength = "", 0
	go func() {
		_, err := v.u.b.Refine(app.RefineRequest{DraftID: jn.gen.ID, SDXL: r})
		v.u.do(func() {
			if err != nil {
				v.u.showError(err)
				return
			}
			v.u.setStatus("Janus image sent to SDXL for refining (hybrid, strength 0.5)")
		})
	}()
}

func (v *CompareView) savePair() {
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		v.SavePairTo(dir.Path())
	}, v.u.win)
}

// SavePairTo exports both images with their settings to dir.
func (v *CompareView) SavePairTo(dir string) {
	var ids []int64
	for _, s := range v.Sides {
		if s.gen != nil {
			ids = append(ids, s.gen.ID)
		}
	}
	var rep gallery.ExportReport
	v.u.work(func() (err error) {
		rep, err = v.u.b.Export(v.u.ctx, ids, dir)
		return err
	}, func() { v.u.setStatus(fmt.Sprintf("Saved the pair (%d images) to %s", rep.Images, rep.Dest)) })
}

// sdxlSide and janusSide find the halves wherever Swap put them.
func (v *CompareView) sdxlSide() *compareSide  { return v.Sides[v.janusIndex()^1] }
func (v *CompareView) janusSide() *compareSide { return v.Sides[v.janusIndex()] }

func (v *CompareView) janusIndex() int {
	if v.swapped {
		return 0
	}
	return 1
}
