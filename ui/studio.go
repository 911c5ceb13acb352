package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/app"
	"diptych/engine/format"
	"diptych/gallery"
)

// Aspect is one of SDXL's native sizes (about one megapixel, sides in
// multiples of 64).
type Aspect struct {
	Name          string
	Width, Height int
}

// SDXLAspects are the sizes SDXL was trained at.
var SDXLAspects = []Aspect{
	{"1:1 square", 1024, 1024},
	{"9:7 landscape", 1152, 896},
	{"7:9 portrait", 896, 1152},
	{"3:2 landscape", 1216, 832},
	{"2:3 portrait", 832, 1216},
	{"7:4 wide", 1344, 768},
	{"4:7 tall", 768, 1344},
	{"12:5 cinema", 1536, 640},
	{"5:12 banner", 640, 1536},
}

var devices = []struct{ label, value string }{{"Auto", "auto"}, {"GPU (CUDA)", "cuda"}, {"CPU", "cpu"}}

const customAspect = "Custom"

// StudioView is the generate tab: the prompt and settings on the left, the
// preview/result, progress and queue on the right.
type StudioView struct {
	u *UI

	Prompt, Negative *keyEntry
	Recent           *widget.Select
	Model            *widget.Select
	Aspect           *widget.Select
	Width, Height    *widget.Slider
	Steps, Guidance  *widget.Slider
	Scheduler        *widget.Select
	Seed             *widget.Entry
	SeedLock         *widget.Check
	RandomSeed       *widget.Button
	CopySeed         *widget.Button
	Refiner          *widget.Check
	SwitchAt         *widget.Slider
	CFG, Temperature *widget.Slider
	Images           *widget.Slider
	InitImage        *widget.Label
	ChooseInit       *widget.Button
	ClearInit        *widget.Button
	Strength         *widget.Slider
	Device           *widget.Select

	Generate, Cancel *widget.Button
	Progress         *widget.ProgressBar
	ProgressText     *widget.Label
	Image            *canvas.Image
	Info             *widget.Label
	Queue            *widget.List
	Split            *container.Split

	sdxlBox, janusBox, initBox, negBox *fyne.Container
	// strengthRow shows only while an init image is set; initBox (the
	// img2img rows) is where a dropped image always becomes the init image.
	strengthRow fyne.CanvasObject
	// JanusSize says Janus-Pro's fixed size where SDXL has its sliders.
	JanusSize *widget.Label
	// LeftScroll holds the controls (it should never need scrolling at
	// 1280×800).
	LeftScroll *container.Scroll
	// Welcome is the first-run panel shown instead of the result while no
	// model is installed.
	Welcome *Welcome
	work    *container.Split

	models      []ModelInfo
	modelLabels map[string]ModelInfo
	jobs        []Job
	running     JobID // id of the running job
	recent      []gallery.Prompt
	initPath    string
	settingSize bool
	// Last is the last finished generation shown as the result.
	Last *gallery.Generation

	content fyne.CanvasObject
}

func newStudioView(u *UI) *StudioView {
	v := &StudioView{u: u, modelLabels: map[string]ModelInfo{}}
	h := u.Hints

	v.Prompt = newKeyEntry(true)
	v.Prompt.SetPlaceHolder("Describe the picture…  (Ctrl+Enter generates)")
	v.Prompt.SetMinRowsVisible(4)
	v.Negative = newKeyEntry(true)
	v.Negative.SetPlaceHolder("Negative prompt: what to keep out")
	v.Negative.SetMinRowsVisible(2)
	for _, e := range []*keyEntry{v.Prompt, v.Negative} {
		e.onGenerate, e.onCancel = v.generate, v.cancel
	}
	v.Recent = widget.NewSelect(nil, func(s string) {
		for _, p := range v.recent {
			if shorten(p.Text, 70) == s {
				v.Prompt.SetText(p.Text)
				v.Negative.SetText(p.Negative)
			}
		}
	})
	v.Recent.PlaceHolder = "Recent prompts"

	v.Model = widget.NewSelect(nil, func(string) { v.modelChanged() })
	v.Model.PlaceHolder = "No model yet: get one on the right"

	names := []string{}
	for _, a := range SDXLAspects {
		names = append(names, fmt.Sprintf("%s  %d×%d", a.Name, a.Width, a.Height))
	}
	names = append(names, customAspect)
	v.Aspect = widget.NewSelect(names, func(s string) {
		for i, a := range SDXLAspects {
			if names[i] == s {
				v.settingSize = true
				v.Width.SetValue(float64(a.Width))
				v.Height.SetValue(float64(a.Height))
				v.settingSize = false
			}
		}
	})
	px := func(f float64) string { return fmt.Sprintf("%d px", int(f)) }
	var wl, hl, sl, gl, swl, cl, tl, il, stl *widget.Label
	v.Width, wl = newSlider(256, 2048, 64, 1024, px)
	v.Height, hl = newSlider(256, 2048, 64, 1024, px)
	for _, s := range []*widget.Slider{v.Width, v.Height} {
		onLabel := s.OnChanged
		s.OnChanged = func(f float64) {
			onLabel(f)
			if !v.settingSize {
				v.syncAspect()
			}
		}
	}
	v.Steps, sl = newSlider(1, 100, 1, 30, func(f float64) string { return fmt.Sprintf("%d", int(f)) })
	v.Guidance, gl = newSlider(0, 20, 0.5, 5, func(f float64) string { return fmt.Sprintf("%.1f", f) })
	v.Scheduler = widget.NewSelect(app.Schedulers(), nil)
	v.Scheduler.SetSelected("euler_a")

	v.Seed = widget.NewEntry()
	v.Seed.SetText("-1")
	v.Seed.Validator = func(s string) error {
		if _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil {
			return errors.New("the seed is a whole number (-1 = random)")
		}
		return nil
	}
	v.SeedLock = widget.NewCheck("Lock", nil)
	v.RandomSeed = widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), func() {
		v.Seed.SetText(strconv.FormatInt(app.RandomSeed(), 10))
		v.SeedLock.SetChecked(true)
	})
	v.CopySeed = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		u.clipboard().SetContent(strings.TrimSpace(v.Seed.Text))
		u.setStatus("Seed copied")
	})

	v.Refiner = widget.NewCheck("Use", func(bool) { v.refreshVisibility() })
	v.SwitchAt, swl = newSlider(0.5, 1, 0.05, 0.8, func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) })

	v.CFG, cl = newSlider(1, 10, 0.5, 5, func(f float64) string { return fmt.Sprintf("%.1f", f) })
	v.Temperature, tl = newSlider(0.1, 1.5, 0.05, 1, func(f float64) string { return fmt.Sprintf("%.2f", f) })
	v.Images, il = newSlider(1, 8, 1, 1, func(f float64) string { return fmt.Sprintf("%d", int(f)) })

	v.InitImage = widget.NewLabel(noInitImage)
	v.InitImage.Truncation = fyne.TextTruncateEllipsis
	v.ChooseInit = widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), func() { u.chooseInitImage() })
	v.ClearInit = widget.NewButtonWithIcon("", theme.CancelIcon(), func() { v.SetInitImage("") })
	v.Strength, stl = newSlider(0.05, 1, 0.05, 0.6, func(f float64) string { return fmt.Sprintf("%.2f", f) })

	dl := []string{}
	for _, d := range devices {
		dl = append(dl, d.label)
	}
	v.Device = widget.NewSelect(dl, nil)
	v.Device.SetSelected("Auto")

	v.Generate = widget.NewButtonWithIcon("Generate", theme.MediaPlayIcon(), v.generate)
	v.Generate.Importance = widget.HighImportance
	v.Cancel = widget.NewButtonWithIcon("Cancel", theme.MediaStopIcon(), v.cancel)
	v.Cancel.Disable()

	v.Progress = widget.NewProgressBar()
	v.ProgressText = widget.NewLabel("Idle")
	v.Image = canvas.NewImageFromImage(nil)
	v.Image.FillMode = canvas.ImageFillContain
	v.Image.SetMinSize(fyne.NewSize(320, 320))
	v.Info = widget.NewLabel("")
	v.Info.Wrapping = fyne.TextWrapWord
	v.Info.Selectable = true

	v.Queue = widget.NewList(func() int { return len(v.jobs) }, v.newQueueRow, v.updateQueueRow)

	f := func(label string, control fyne.CanvasObject, value fyne.CanvasObject) fyne.CanvasObject {
		return field(label, control, value)
	}
	v.JanusSize = widget.NewLabel("384 × 384 px (fixed for Janus-Pro)")
	v.sdxlBox = container.NewVBox(
		f("Size", h.With(v.Aspect, "SDXL's native aspect presets (about one megapixel)"), nil),
		f("Width", h.With(v.Width, "Width in pixels (multiples of 64)"), wl),
		f("Height", h.With(v.Height, "Height in pixels (multiples of 64)"), hl),
		f("Steps", h.With(v.Steps, "Denoising steps: more is slower and usually finer"), sl),
		f("Sampler", h.With(v.Scheduler, "Sampler (scheduler)"), nil),
		f("CFG scale", h.With(v.Guidance, "Guidance (CFG): how closely to follow the prompt"), gl),
		f("Refiner", container.NewBorder(nil, nil, h.With(v.Refiner, "Hand the last steps to the SDXL refiner (if installed)"), nil,
			h.With(v.SwitchAt, "Share of the steps the base model runs before the refiner takes over")), swl),
	)
	v.strengthRow = f("Strength", h.With(v.Strength, "How much to change the init image (1 = ignore it)"), stl)
	v.initBox = container.NewVBox(
		f("Init image", v.InitImage, container.NewHBox(
			h.With(v.ChooseInit, "Pick an image to start from (image-to-image); or drop one on this row"),
			h.With(v.ClearInit, "Stop using the init image"))),
		v.strengthRow,
	)
	v.janusBox = container.NewVBox(
		f("Size", v.JanusSize, nil),
		f("CFG weight", h.With(v.CFG, "Classifier-free guidance weight"), cl),
		f("Temperature", h.With(v.Temperature, "Sampling temperature for image tokens"), tl),
		f("Images", h.With(v.Images, "Images per prompt, generated in parallel"), il),
	)
	v.negBox = container.NewVBox(f("Negative", h.With(v.Negative, "The negative prompt: what to keep out (SDXL)"), nil))
	left := container.NewVBox(
		container.NewBorder(nil, nil, boldLabel("Prompt"), nil, h.With(v.Recent, "Prompts used recently (from the history)")),
		h.With(v.Prompt, "The prompt. Ctrl+Enter generates, Esc cancels"),
		v.negBox,
		f("Model", h.With(v.Model, "Which installed model runs the job"), nil),
		v.sdxlBox, v.initBox, v.janusBox,
		f("Seed", h.With(v.Seed, "Seed (-1 = random)"),
			container.NewHBox(h.With(v.SeedLock, "Keep this seed for the next runs (otherwise a new random seed each run)"),
				h.With(v.RandomSeed, "Pick a new random seed and lock it"),
				h.With(v.CopySeed, "Copy the seed"))),
		f("Device", h.With(v.Device, "Where to run: Auto picks the GPU when it works"), nil),
	)
	buttons := container.NewGridWithColumns(2,
		h.With(v.Generate, "Queue a generation (Ctrl+Enter)"),
		h.With(v.Cancel, "Stop the running generation (Esc)"))
	v.LeftScroll = container.NewVScroll(left)
	leftPane := container.NewBorder(nil, buttons, nil, nil, v.LeftScroll)

	v.Welcome = newWelcome(u)
	result := container.NewBorder(nil, container.NewVBox(v.Progress, v.ProgressText), nil, nil,
		container.NewVSplit(newTapArea(v.Image, v.OpenResult), container.NewVScroll(v.Info)))
	queue := container.NewBorder(widget.NewLabelWithStyle("Queue", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, nil, nil, v.Queue)
	v.work = container.NewVSplit(result, queue)
	v.work.Offset = 0.72
	right := container.NewStack(v.work, v.Welcome.content)
	v.Split = container.NewHSplit(leftPane, right)
	v.Split.Offset = 0.36
	v.syncAspect()
	v.content = v.Split
	v.refreshVisibility()
	return v
}

// SetModels fills the model picker, keeping the selection when it is still
// there.
func (v *StudioView) SetModels(ms []ModelInfo) {
	v.models = ms
	v.modelLabels = map[string]ModelInfo{}
	var opts []string
	for _, m := range ms {
		if m.Problem != "" || m.Kind == KindSDXLRefiner {
			continue
		}
		l := modelLabel(m)
		v.modelLabels[l] = m
		opts = append(opts, l)
	}
	v.Model.SetOptions(opts)
	if _, ok := v.modelLabels[v.Model.Selected]; !ok {
		if len(opts) > 0 {
			v.Model.SetSelected(opts[0])
		} else {
			v.Model.ClearSelected()
		}
	}
	v.refreshVisibility()
}

func modelLabel(m ModelInfo) string {
	kind := map[string]string{KindSDXLBase: "SDXL", KindSDXLRefiner: "SDXL refiner", KindJanus: "Janus-Pro"}[m.Kind]
	if m.Params != "" {
		kind += " " + m.Params
	}
	l := fmt.Sprintf("%s — %s", m.Name, kind)
	if m.Demo {
		l += " (demo: produces noise)"
	}
	return l
}

// selectedModel is the picked model, if any.
func (v *StudioView) selectedModel() (ModelInfo, bool) {
	m, ok := v.modelLabels[v.Model.Selected]
	return m, ok
}

func (v *StudioView) refiner() (ModelInfo, bool) {
	for _, m := range v.models {
		if m.Kind == KindSDXLRefiner && m.Problem == "" {
			return m, true
		}
	}
	return ModelInfo{}, false
}

func (v *StudioView) modelChanged() { v.refreshVisibility() }

// SelectKind picks the first model of kind (KindSDXLBase, KindJanus).
func (v *StudioView) SelectKind(kind string) { v.selectKind(kind) }

// selectKind picks the first model of kind unless one is picked already.
func (v *StudioView) selectKind(kind string) {
	if m, ok := v.selectedModel(); ok && m.Kind == kind {
		return
	}
	for _, l := range v.Model.Options {
		if v.modelLabels[l].Kind == kind {
			v.Model.SetSelected(l)
			return
		}
	}
}

func (v *StudioView) refreshVisibility() {
	m, _ := v.selectedModel()
	janus := m.Kind == KindJanus
	show := func(o fyne.CanvasObject, on bool) {
		if on {
			o.Show()
		} else {
			o.Hide()
		}
	}
	show(v.sdxlBox, !janus)
	show(v.janusBox, janus)
	show(v.initBox, !janus)
	show(v.strengthRow, v.initPath != "")
	setEnabled(v.ClearInit, v.initPath != "")
	show(v.negBox, !janus)
	if v.Welcome != nil {
		show(v.Welcome.content, len(v.modelLabels) == 0)
		show(v.work, len(v.modelLabels) > 0)
	}
	if _, ok := v.refiner(); ok && !janus {
		v.Refiner.Enable()
	} else {
		v.Refiner.Disable()
	}
	if v.Refiner.Checked && !v.Refiner.Disabled() {
		v.SwitchAt.Enable()
	} else {
		v.SwitchAt.Disable()
	}
	if len(v.modelLabels) == 0 {
		v.Generate.Disable()
	} else {
		v.Generate.Enable()
	}
}

func (v *StudioView) syncAspect() {
	w, h := int(v.Width.Value), int(v.Height.Value)
	for i, a := range SDXLAspects {
		if a.Width == w && a.Height == h {
			v.Aspect.SetSelectedIndex(i)
			return
		}
	}
	v.Aspect.SetSelected(customAspect)
}

// noInitImage is the init-image row's text while none is set.
const noInitImage = "None (drop one here)"

// SetInitImage makes path the init image of SDXL runs ("" clears it).
func (v *StudioView) SetInitImage(path string) {
	v.initPath = path
	if path == "" {
		v.InitImage.SetText(noInitImage)
	} else {
		v.InitImage.SetText(filepath.Base(path))
	}
	v.refreshVisibility()
}

// InitImageRow is the img2img rows' area: an image dropped inside it is
// always taken as the init image, even one that carries settings.
func (v *StudioView) InitImageRow() fyne.CanvasObject { return v.initBox }

// Request builds the request from the controls.
func (v *StudioView) Request() (Request, error) {
	prompt := strings.TrimSpace(v.Prompt.Text)
	if prompt == "" {
		return Request{}, errors.New("write a prompt first")
	}
	m, ok := v.selectedModel()
	if !ok {
		return Request{}, errors.New("no model is selected: install one in the Models tab")
	}
	seed, err := strconv.ParseInt(strings.TrimSpace(v.Seed.Text), 10, 64)
	if err != nil {
		return Request{}, fmt.Errorf("seed %q: expected a whole number (-1 = random)", v.Seed.Text)
	}
	if !v.SeedLock.Checked {
		seed = -1
	}
	r := Request{Prompt: prompt, Negative: strings.TrimSpace(v.Negative.Text), Seed: seed,
		ModelDir: m.Dir, Device: deviceValue(v.Device.Selected)}
	if m.Kind == KindJanus {
		r.Model = EngineJanus
		r.CFG, r.Temperature, r.Images = round2(v.CFG.Value), round2(v.Temperature.Value), int(v.Images.Value)
		return r, nil
	}
	r.Model = EngineSDXL
	r.Width, r.Height, r.Steps = int(v.Width.Value), int(v.Height.Value), int(v.Steps.Value)
	r.Scheduler, r.Guidance = v.Scheduler.Selected, round2(v.Guidance.Value)
	if ref, ok := v.refiner(); ok && v.Refiner.Checked {
		r.RefinerDir, r.SwitchAt = ref.Dir, round2(v.SwitchAt.Value)
	}
	if v.initPath != "" {
		r.InitImage, r.Strength = v.initPath, round2(v.Strength.Value)
	}
	return r, nil
}

func deviceValue(label string) string {
	for _, d := range devices {
		if d.label == label {
			return d.value
		}
	}
	return "auto"
}

func deviceLabel(value string) string {
	for _, d := range devices {
		if d.value == value || (d.value == "cuda" && strings.HasPrefix(value, "cuda")) {
			return d.label
		}
	}
	return "Auto"
}

// Apply sets the controls from a request ("use these settings").
func (v *StudioView) Apply(r Request) {
	v.Prompt.SetText(r.Prompt)
	v.Negative.SetText(r.Negative)
	v.Seed.SetText(strconv.FormatInt(r.Seed, 10))
	v.SeedLock.SetChecked(r.Seed >= 0)
	for l, m := range v.modelLabels {
		if m.Dir == r.ModelDir {
			v.Model.SetSelected(l)
			break
		}
	}
	if m, _ := v.selectedModel(); m.Dir != r.ModelDir {
		want := KindSDXLBase
		if r.Model == EngineJanus {
			want = KindJanus
		}
		for _, l := range v.Model.Options {
			if v.modelLabels[l].Kind == want {
				v.Model.SetSelected(l)
				break
			}
		}
	}
	if r.Model == EngineJanus {
		setIf(v.CFG, r.CFG)
		setIf(v.Temperature, r.Temperature)
		setIf(v.Images, float64(r.Images))
	} else {
		v.settingSize = true
		setIf(v.Width, float64(r.Width))
		setIf(v.Height, float64(r.Height))
		v.settingSize = false
		v.syncAspect()
		setIf(v.Steps, float64(r.Steps))
		setIf(v.Guidance, r.Guidance)
		if slices.Contains(app.Schedulers(), r.Scheduler) {
			v.Scheduler.SetSelected(r.Scheduler)
		}
		v.Refiner.SetChecked(r.RefinerDir != "")
		setIf(v.SwitchAt, r.SwitchAt)
		v.SetInitImage(r.InitImage)
		setIf(v.Strength, r.Strength)
	}
	if r.Device != "" {
		v.Device.SetSelected(deviceLabel(r.Device))
	}
	v.refreshVisibility()
}

func setIf(s *widget.Slider, f float64) {
	if f > 0 {
		s.SetValue(f)
	}
}

// RequestFromGeneration rebuilds the request a history entry was made
// with: the stored request when there is one, else its recorded fields.
// The seed is the one the run actually used.
func RequestFromGeneration(g gallery.Generation) Request {
	var r Request
	if m, ok := g.Params["request"]; ok {
		if b, err := json.Marshal(m); err == nil {
			json.Unmarshal(b, &r)
		}
	}
	if r.Prompt == "" {
		r = Request{Model: app.Model(g.Engine), Prompt: g.Prompt, Negative: g.NegativePrompt, Width: g.Width, Height: g.Height,
			Steps: g.Steps, Scheduler: g.Scheduler, Guidance: g.Guidance, Temperature: g.Temperature}
		if g.Engine == EngineJanus {
			r.CFG, r.Guidance = g.Guidance, 0
		}
		if d, ok := g.Params["model_dir"].(string); ok {
			r.ModelDir = d
		}
	}
	r.Seed = int64(g.Seed)
	return r
}

func (v *StudioView) generate() {
	r, err := v.Request()
	if err != nil {
		v.u.showError(err)
		return
	}
	id := v.u.b.Submit(r)
	v.u.setStatus(fmt.Sprintf("Queued %s", shorten(r.Prompt, 40)))
	_ = id
}

func (v *StudioView) cancel() {
	if v.running == "" {
		return
	}
	v.u.b.Cancel(v.running)
	v.u.setStatus("Cancelling…")
}

// onEvent applies a job event (on the UI goroutine).
func (v *StudioView) onEvent(e Event) {
	switch e.Kind {
	case app.EventProgress:
		p := e.Progress
		if p.Total > 0 {
			v.Progress.SetValue(float64(p.Step) / float64(p.Total))
		}
		v.ProgressText.SetText(progressText(p))
		if p.Preview != nil {
			v.showImage(p.Preview)
		}
		return
	case app.EventStarted:
		v.running = e.Job.ID
		v.Cancel.Enable()
		v.Progress.SetValue(0)
		v.ProgressText.SetText("Starting " + shorten(e.Job.Request.Prompt, 40) + "…")
	case app.EventDone, app.EventFailed, app.EventCancelled:
		if e.Job.ID == v.running {
			v.running = ""
			v.Cancel.Disable()
		}
		switch e.Kind {
		case app.EventDone:
			v.Progress.SetValue(1)
			v.ProgressText.SetText("Done")
			if len(e.Generations) > 0 {
				g := e.Generations[0]
				v.Last = &g
				v.Info.SetText(describe(g))
				if !v.SeedLock.Checked {
					v.Seed.SetText(strconv.FormatUint(g.Seed, 10))
				}
				v.loadResult(g)
			}
		case app.EventFailed:
			v.ProgressText.SetText("Failed: " + e.Err)
		case app.EventCancelled:
			v.Progress.SetValue(0)
			v.ProgressText.SetText("Cancelled")
		}
	}
	v.refreshJobs()
}

// OpenResult opens the last result in the viewer (stepping through the
// history from it when the grid holds it).
func (v *StudioView) OpenResult() {
	if v.Last == nil {
		return
	}
	if i, ok := v.u.History.IndexOf(v.Last.ID); ok {
		v.u.History.OpenAt(i)
		return
	}
	v.u.Viewer.OpenGeneration(*v.Last)
}

func (v *StudioView) showImage(img image.Image) {
	v.Image.Image = img
	v.Image.File = ""
	v.Image.Refresh()
}

// loadResult reads the saved image off the UI goroutine.
func (v *StudioView) loadResult(g gallery.Generation) {
	if g.Image == nil {
		return
	}
	path := v.u.b.Path(g.Image.Path)
	go func() {
		img, err := app.LoadImage(path)
		v.u.do(func() {
			if err != nil {
				v.u.setStatus(err.Error())
				return
			}
			if v.Last != nil && v.Last.ID == g.ID {
				v.showImage(img)
			}
		})
	}()
}

func (v *StudioView) refreshJobs() {
	v.jobs = v.u.b.Jobs()
	v.Queue.Refresh()
}

func (v *StudioView) newQueueRow() fyne.CanvasObject {
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	up := widget.NewButtonWithIcon("", theme.MoveUpIcon(), nil)
	down := widget.NewButtonWithIcon("", theme.MoveDownIcon(), nil)
	rm := widget.NewButtonWithIcon("", theme.DeleteIcon(), nil)
	return container.NewBorder(nil, nil, nil, container.NewHBox(up, down, rm), l)
}

func (v *StudioView) updateQueueRow(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(v.jobs) {
		return
	}
	j := v.jobs[i]
	c := o.(*fyne.Container)
	l := c.Objects[0].(*widget.Label)
	btns := c.Objects[1].(*fyne.Container).Objects
	up, down, rm := btns[0].(*widget.Button), btns[1].(*widget.Button), btns[2].(*widget.Button)
	text := fmt.Sprintf("%s · %s · %s", j.State, j.Request.Model, shorten(j.Request.Prompt, 60))
	if j.Error != "" && j.State == app.JobFailed {
		text += " — " + j.Error
	}
	l.SetText(text)
	queued := j.State == app.JobQueued
	pos := 0
	for _, q := range v.jobs[:i] {
		if q.State == app.JobQueued {
			pos++
		}
	}
	up.OnTapped = func() { v.move(j.ID, pos-1) }
	down.OnTapped = func() { v.move(j.ID, pos+1) }
	if queued {
		up.Enable()
		down.Enable()
	} else {
		up.Disable()
		down.Disable()
	}
	if j.State == app.JobRunning {
		rm.SetIcon(theme.MediaStopIcon())
		rm.OnTapped = func() { v.u.b.Cancel(j.ID) }
	} else {
		rm.SetIcon(theme.DeleteIcon())
		rm.OnTapped = func() { v.remove(j.ID) }
	}
}

func (v *StudioView) move(id JobID, pos int) {
	if err := v.u.b.Move(id, max(pos, 0)); err != nil {
		v.u.showError(err)
	}
	v.refreshJobs()
}

func (v *StudioView) remove(id JobID) {
	if err := v.u.b.Remove(id); err != nil {
		v.u.showError(err)
	}
	v.refreshJobs()
}

// loadRecent refreshes the recent-prompts list off the UI goroutine.
func (v *StudioView) loadRecent(ctx context.Context) {
	go func() {
		ps, err := v.u.b.RecentPrompts(ctx, 30)
		if err != nil {
			return
		}
		v.u.do(func() {
			v.recent = ps
			opts := make([]string, 0, len(ps))
			for _, p := range ps {
				opts = append(opts, shorten(p.Text, 70))
			}
			v.Recent.SetOptions(opts)
		})
	}()
}

// describe is the settings and timings text of a generation.
func describe(g gallery.Generation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", g.Prompt)
	if g.NegativePrompt != "" {
		fmt.Fprintf(&b, "Negative: %s\n", g.NegativePrompt)
	}
	fmt.Fprintf(&b, "\nModel: %s (%s)\nSeed: %d\nSize: %d×%d\n", g.Model, g.Engine, g.Seed, g.Width, g.Height)
	if g.Steps > 0 {
		fmt.Fprintf(&b, "Steps: %d · %s · CFG %.1f\n", g.Steps, g.Scheduler, g.Guidance)
	} else if g.Engine == EngineJanus {
		fmt.Fprintf(&b, "CFG weight %.1f · temperature %.2f\n", g.Guidance, g.Temperature)
	}
	dev := g.Device
	if g.ExecutionProvider != "" {
		dev += " (" + g.ExecutionProvider + ")"
	}
	if g.Precision != "" {
		dev += " " + g.Precision
	}
	fmt.Fprintf(&b, "Device: %s\n", dev)
	if g.PeakMemoryBytes > 0 {
		fmt.Fprintf(&b, "Peak memory: %s\n", format.Bytes(g.PeakMemoryBytes))
	}
	if len(g.Timings) > 0 {
		var parts []string
		for _, t := range g.Timings {
			parts = append(parts, t.Stage+" "+format.Duration(t.Duration))
		}
		fmt.Fprintf(&b, "Timings: %s\n", strings.Join(parts, " · "))
	}
	if g.Status != gallery.StatusOK && g.Status != "" {
		fmt.Fprintf(&b, "Status: %s %s\n", g.Status, g.Error)
	}
	if len(g.Boards) > 0 {
		fmt.Fprintf(&b, "Boards: %s\n", strings.Join(g.Boards, ", "))
	}
	if len(g.Captions) > 0 {
		fmt.Fprintf(&b, "Caption: %s\n", g.Captions[0].Answer)
	}
	fmt.Fprintf(&b, "Created: %s", g.CreatedAt.Local().Format("2006-01-02 15:04:05"))
	return b.String()
}

func (v *StudioView) requestOrZero() Request {
	r, _ := v.Request()
	return r
}

// round2 drops the float noise of slider steps (0.6000000000000001).
func round2(f float64) float64 { return math.Round(f*100) / 100 }
